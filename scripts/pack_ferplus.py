#!/usr/bin/env python
"""Pack FERPlus (majority labels, official rule) into one xz file for a machine that cannot
see the image folders, e.g. the lent GPU machine (it travels in the git-ignored .pack/).

    python scripts/pack_ferplus.py --data-root "$FER_BENCH_DATA"          # train + val
    python scripts/pack_ferplus.py --data-root "$FER_BENCH_DATA" --splits train,val,test

Research-use images: the pack must never be committed (``/.pack/`` is in .gitignore).
Faces without a majority label (unknown, not a face) are left out, as the adapter does.
"""
from __future__ import annotations

import argparse
import time
from pathlib import Path

from fer_bench.datasets.registry import load_dataset
from fer_bench.pretrain.data import decode_dataset
from fer_bench.pretrain.packed import read_packed, save_packed

REPO = Path(__file__).resolve().parents[1]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--data-root", required=True, help="folder holding ferplus/")
    p.add_argument("--splits", default="train,val", help="comma-separated FERPlus splits")
    p.add_argument("--out", default=None, help="default: .pack/ferplus-<splits>.npz.xz")
    p.add_argument("--preset", type=int, default=6, help="xz preset (0-9)")
    args = p.parse_args()
    splits = tuple(s for s in args.splits.split(",") if s)
    out = Path(args.out) if args.out else REPO / ".pack" / f"ferplus-{'-'.join(splits)}.npz.xz"

    t0 = time.time()
    ds = load_dataset("ferplus", root=args.data_root)
    ds = ds.subset(ds.manifest["split"].isin(splits).to_numpy()).labelled()
    images = decode_dataset(ds, size=48)                       # FERPlus is 48x48 grey
    if images.shape[1] != 1:
        raise SystemExit(f"expected grey FERPlus faces, got {images.shape[1]} channels")
    print(f"decoded {len(ds)} faces in {time.time() - t0:.1f}s", flush=True)
    save_packed(out, images[:, 0].numpy(), labels=ds.manifest["label"].tolist(),
                splits=ds.manifest["split"].tolist(), ids=ds.manifest["id"].tolist(),
                meta={"dataset": ds.name, "image_family": ds.image_family,
                      "classes": list(ds.classes), "label_mode": ds.info.get("mode", ""),
                      "manifest_digest": ds.manifest_digest(),
                      "terms": "research use only; FER2013 images carry no clear licence"},
                preset=args.preset)
    arrays, meta, digest = read_packed(out)                     # check it reads back
    counts = {s: int((arrays["splits"] == s).sum()) for s in splits}
    print(f"{out}: {out.stat().st_size / 1e6:.1f} MB, {counts}, sha256 {digest[:12]}, "
          f"{time.time() - t0:.0f}s")


if __name__ == "__main__":
    main()
