"""Build the CIFAR-10 subset shipped inside the package (nas_optuna/data/cifar10-bundled.zip).

A stratified, seeded sample of the JPEG re-encoding of CIFAR-10: TRAIN_PER_CLASS training and
TEST_PER_CLASS test images per class, original JPEG bytes kept, same ImageFolder layout
(train/<class>/NNNN.jpg, test/<class>/NNNN.jpg). Run once; its output is committed.

    python tools/make_bundled_data.py /work/shared/data/cifar10-jpeg.zip
"""

from __future__ import annotations

import argparse
import random
import zipfile
from collections import defaultdict
from pathlib import Path

TRAIN_PER_CLASS = 400
TEST_PER_CLASS = 80
SEED = 0
OUT = Path(__file__).resolve().parents[1] / "nas_optuna" / "data" / "cifar10-bundled.zip"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    parser.add_argument("source", help="cifar10-jpeg.zip (ImageFolder layout: train/<class>/*.jpg, test/...)")
    parser.add_argument("--out", type=Path, default=OUT)
    args = parser.parse_args()

    rng = random.Random(SEED)
    with zipfile.ZipFile(args.source) as src:
        by_split_class: dict[tuple[str, str], list[str]] = defaultdict(list)
        for name in src.namelist():
            parts = name.split("/")
            if len(parts) == 3 and parts[2].endswith(".jpg"):
                by_split_class[(parts[0], parts[1])].append(name)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        # ZIP_STORED: JPEG bytes do not compress; a fixed date keeps the output byte-identical.
        with zipfile.ZipFile(args.out, "w", compression=zipfile.ZIP_STORED) as dst:
            for (split, _cls), names in sorted(by_split_class.items()):
                keep = TRAIN_PER_CLASS if split == "train" else TEST_PER_CLASS
                for name in sorted(rng.sample(sorted(names), keep)):
                    info = zipfile.ZipInfo(name, date_time=(2020, 1, 1, 0, 0, 0))
                    dst.writestr(info, src.read(name))
    print(f"wrote {args.out} ({args.out.stat().st_size / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
