"""The export formats: one module per family, one writer per format, and what each needs.

``tables`` (csv, jsonl, parquet), ``folders`` (imagefolder, hf-imagefolder, yolo-cls, fiftyone), ``labelstudio``,
``arrays`` (cleanlab, embeddings). :mod:`aldesk.core.exchange.export` checks the output and dispatches here.
"""

from __future__ import annotations

from collections.abc import Callable

from aldesk.core.exchange.formats import arrays, folders, labelstudio, tables
from aldesk.core.exchange.formats.job import ExportOptions, Job

WRITERS: dict[str, Callable[[Job], None]] = {
    "csv": tables.write_csv_rows,
    "jsonl": tables.write_jsonl,
    "parquet": tables.write_parquet,
    "imagefolder": folders.write_imagefolder,
    "hf-imagefolder": folders.write_hf_imagefolder,
    "yolo-cls": folders.write_yolo_cls,
    "fiftyone": folders.write_fiftyone,
    "labelstudio": labelstudio.write_labelstudio,
    "cleanlab": arrays.write_cleanlab,
    "embeddings": arrays.write_embeddings,
}
FORMATS = tuple(WRITERS)
# Written as a folder (built aside, swapped in whole); the others are one file (and labelstudio's config).
FOLDER_FORMATS = frozenset(
    {"imagefolder", "hf-imagefolder", "yolo-cls", "fiftyone", "cleanlab", "embeddings"}
)
IMAGE_FORMATS = frozenset({"imagefolder", "hf-imagefolder", "yolo-cls", "fiftyone"})
SPLIT_FORMATS = frozenset({"imagefolder", "hf-imagefolder", "yolo-cls"})
# Need the embeddings (the k-NN's probabilities, or the vectors themselves), whatever the options.
MODEL_FORMATS = frozenset({"cleanlab", "embeddings"})
# One line per format, for --help and the app's Export dialog.
DESCRIPTIONS = {
    "csv": "CSV: item, label, predicted, confidence (Python csv, pandas, spreadsheets)",
    "jsonl": "JSON Lines: one object per item",
    "parquet": "Parquet: item, label, origin, time, audit, predicted, confidence (+ vector)",
    "imagefolder": "ImageFolder: one folder per class (torchvision, Keras)",
    "hf-imagefolder": "Hugging Face imagefolder: images + metadata.csv",
    "yolo-cls": "YOLO classification: train/ and val/ class folders (val = audit labels)",
    "fiftyone": "FiftyOne image classification dataset: data/ + labels.json",
    "labelstudio": "Label Studio tasks JSON + its labeling config",
    "cleanlab": "cleanlab inputs: labels.npy, out-of-sample pred_probs.npy, classes.json",
    "embeddings": "embeddings: vectors.npy + items.csv",
}

__all__ = [
    "DESCRIPTIONS",
    "FOLDER_FORMATS",
    "FORMATS",
    "IMAGE_FORMATS",
    "MODEL_FORMATS",
    "SPLIT_FORMATS",
    "WRITERS",
    "ExportOptions",
    "Job",
]
