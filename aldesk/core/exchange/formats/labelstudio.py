"""Label Studio tasks (its "Basic Label Studio JSON" import format) and the labeling config that matches them.

Each task is ``{"data": {...}, "annotations": [{"result": [...]}]}`` for a label or ``"predictions": [{
"model_version", "score", "result"}]`` for a prediction; a result is ``{"from_name", "to_name", "type":
"choices", "value": {"choices": [class]}}`` whose names are those of the ``<Choices>`` and ``<Image>``/``<Text>``
tags of the config written beside it (``<stem>.label_config.xml``).
"""

from __future__ import annotations

import json
from pathlib import Path
from urllib.parse import quote
from xml.sax.saxutils import quoteattr

from aldesk.core.atomic import atomic_file
from aldesk.core.dataset import UnsafeItem
from aldesk.core.exchange.formats.job import Job


def config_path(out: Path) -> Path:
    return out.with_name(out.stem + ".label_config.xml")


def _result(cls: str, to_name: str) -> list[dict]:
    return [{"from_name": "label", "to_name": to_name, "type": "choices", "value": {"choices": [cls]}}]


def write_labelstudio(job: Job) -> None:
    """An image task points Label Studio at a file, so an item outside the data folder is refused (left out,
    listed in ``report.refused``): a task must not make a server hand out ``/etc/passwd``."""
    ds = job.dataset
    to_name, data_key = ("image", "image") if ds.kind == "image" else ("text", "text")
    prefix = job.options.image_url_prefix
    tasks = []
    for r in job.rows:
        if ds.kind == "image":
            try:
                src = ds.resolve(r.item)
            except UnsafeItem as exc:
                job.report.refused.append(str(exc))
                continue
            if prefix is None:
                # Label Studio's local file serving (LOCAL_FILES_SERVING_ENABLED=true,
                # LOCAL_FILES_DOCUMENT_ROOT=/): the path below the document root.
                value = "/data/local-files/?d=" + quote(src.as_posix().lstrip("/"))
            else:
                value = prefix + quote(r.item)
        else:
            value = r.item
        task: dict = {"data": {data_key: value, "item": r.item}}
        if r.label is not None:
            task["annotations"] = [{"result": _result(r.label, to_name), "ground_truth": False}]
        elif r.predicted is not None:
            task["predictions"] = [
                {
                    "model_version": job.options.model_id or "aldesk",
                    "score": r.confidence,
                    "result": _result(r.predicted, to_name),
                }
            ]
        tasks.append(task)
    with atomic_file(job.out, encoding="utf-8") as f:
        json.dump(tasks, f, ensure_ascii=False, indent=1)
    tag = (
        '<Image name="image" value="$image"/>' if ds.kind == "image" else '<Text name="text" value="$text"/>'
    )
    choices = "\n".join(f"    <Choice value={quoteattr(c)}/>" for c in job.classes)
    config = (
        f'<View>\n  {tag}\n  <Choices name="label" toName="{to_name}" choice="single">\n{choices}\n'
        "  </Choices>\n</View>\n"
    )
    with atomic_file(config_path(job.out), encoding="utf-8") as f:
        f.write(config)
    job.report.files.append(config_path(job.out))
