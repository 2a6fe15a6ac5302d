"""Exported encoders load as ``crs-cont`` and embed exactly what the trained trunk computes."""
from __future__ import annotations

import json

import pytest
import torch

from fer_bench.encoder_registry import get_encoder
from fer_bench.pretrain.data import Source, merge_sources
from fer_bench.pretrain.export import export_checkpoint, export_result
from fer_bench.pretrain.trainer import TrainConfig, train
from fer_bench.synth import sample_faces
from fer_bench.weights import load_encoder_weights, read_encoder_metadata

pytestmark = pytest.mark.usefixtures("one_torch_thread")


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    images, labels = sample_faces(12, size=16, seed=2)
    data = merge_sources([Source("toy", "synth-wild", "synth-wild", ("train",), images,
                                 labels, "toy-identity")])
    out = tmp_path_factory.mktemp("run")
    cfg = TrainConfig(data=("toy",), out=str(out), epochs=1, batch_size=4, input_size=16,
                      lr=0.05, device="cpu", progress=False)
    return train(cfg, data), images


def test_sharded_export_round_trips_through_the_crs_cont_encoder(tmp_path, trained):
    result, images = trained
    files = export_result(result, tmp_path / "crs-cont-test", "test", shard_mb=8)
    assert len(files) - 1 >= 3 and files[-1].name == "model.safetensors.index.json"  # 22 MB
    assert all(f.stat().st_size <= 8 * 2 ** 20 for f in files)

    encoder = get_encoder("crs-cont", weights=str(tmp_path / "crs-cont-test"))
    assert encoder.info.preprocessing.input_size == 16
    # the header says synth-wild; its data sources say the train split alone
    assert encoder.info.pretrained_on == ("synth-wild/train",)
    assert set(encoder.info.pretrain_classes) == set(result.present_classes)
    got = encoder.embed(images[:5])

    # Reference: the trained trunk in eval mode with its weights rounded to fp16 (BatchNorm
    # statistics stay fp32), on the same preprocessing.
    trunk = result.model.trunk.eval()
    state = {k: (v.half().float() if v.is_floating_point() and "running" not in k else v)
             for k, v in trunk.state_dict().items()}
    reference = type(trunk)(block=type(trunk.layer1[0]), layers=[2, 2, 2, 2])
    reference.fc = torch.nn.Identity()
    reference.load_state_dict(state)
    with torch.no_grad():
        expected = reference.eval()(encoder.info.preprocessing.apply(images[:5]))
    assert torch.allclose(got, expected, rtol=1e-4, atol=1e-4 * expected.abs().max().item())


def test_metadata_records_method_data_and_progress(tmp_path, trained):
    result, _ = trained
    path = tmp_path / "enc.safetensors"
    export_result(result, path, "cpu-test-16")
    meta = read_encoder_metadata(path)
    assert meta["method"] == "crs-cont" and meta["revision"] == "cpu-test-16"
    assert meta["data"] == ["toy"] and meta["pretrained_on"] == ["synth-wild"]
    assert meta["epochs"] == 1.0 and meta["steps"] == 3 and meta["input_size"] == 16
    assert meta["channels"] == "rgb" and meta["clean_baselines"] is False
    assert meta["loss"]["terms"] == {"contrastive": 1.0, "ce_coarse": 1.0, "instance": 0.4}
    assert len(meta["git_commit"]) in (7, 40) or meta["git_commit"] == "unknown"
    json.dumps(meta)


def test_batchnorm_statistics_beyond_fp16_range_survive_export(tmp_path, trained):
    result, _ = trained
    running_var = result.model.trunk.bn1.running_var
    saved = running_var.clone()
    running_var[0] = 1e6                                    # beyond fp16's 65504
    try:
        export_result(result, tmp_path / "big.safetensors", "x")
    finally:
        running_var.copy_(saved)
    state, _ = load_encoder_weights(tmp_path / "big.safetensors")
    assert state["bn1.running_var"][0].item() == 1e6
    assert state["conv1.weight"].dtype == torch.float32      # loaded as float32


def test_checkpoint_export_equals_result_export(tmp_path, trained):
    result, _ = trained
    a = export_result(result, tmp_path / "a.safetensors", "r")[0]
    b = export_checkpoint(result.out / "checkpoint.pt", tmp_path / "b.safetensors", "r")[0]
    assert read_encoder_metadata(a)["tensor_digest"] == read_encoder_metadata(b)["tensor_digest"]
