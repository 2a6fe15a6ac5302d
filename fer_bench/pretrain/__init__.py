"""Pre-training encoders for fer-bench: CRS-CONT (Li et al., IEEE TIP 2022) and the SimCLR,
SupCon and supervised baselines from the same code path (``fer-bench pretrain``).

Data flow: ``data`` (any mix of datasets or packs, decoded once into one uint8 tensor)
-> ``pipeline`` (on-device sampling and the batched ``augment``ation) -> ``step``
(``model`` forward, ``losses``, SGD) driven by ``trainer`` (schedule, time budget,
``checkpoint``/resume, ``run_log``, ``distributed`` DDP) -> ``export`` (the trunk as a
``crs-cont`` encoder). The official-style PIL/DataLoader input pipeline that the fast one
is measured against lives with its benchmark, in ``scripts/reference_loop.py``.
"""
