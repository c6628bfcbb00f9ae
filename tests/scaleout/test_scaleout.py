"""Scale-out (issue 18): ``aldesk embed`` locally and on a real local Ray cluster (2 workers, a small object
store) on real Fashion-MNIST images and the demo's real texts; the vectors equal the app's own to 1e-5; a worker
killed mid-run and a rerun embed nothing twice; import-vectors then open embeds nothing; a card mismatch is
refused."""

from __future__ import annotations

import gzip
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from aldesk.core.embed import default_card, embed_dataset
from aldesk.core.progress import UserError

pa = pytest.importorskip("pyarrow")
ray = pytest.importorskip("ray")

FASHION = Path("/usr/share/datasets/fashion-mnist")
DEMO_TEXTS = Path(__file__).resolve().parents[2] / "aldesk" / "resources" / "demo" / "texts.csv"
N_IMAGES = 200


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if not FASHION.is_dir():
        pytest.skip("Debian package dataset-fashion-mnist is not installed")
    root = tmp_path_factory.mktemp("photos")
    with gzip.open(FASHION / "t10k-images-idx3-ubyte.gz") as fh:
        imgs = np.frombuffer(fh.read(), dtype=np.uint8, offset=16).reshape(-1, 28, 28)[:N_IMAGES]
    for k, img in enumerate(imgs):
        Image.fromarray(255 - img).save(root / f"fm_{k:03d}.png")
    (root / "notes.png").write_text("not an image\n")  # unreadable: listed in the manifest, never fatal
    return root


@pytest.fixture(scope="module")
def texts(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("texts") / "reviews.csv"
    out.write_bytes(DEMO_TEXTS.read_bytes())
    return out


@pytest.fixture(scope="module")
def cluster():
    """A real local Ray cluster for this module: 2 worker CPUs, a 100 MB object store, no dashboard."""
    ray.init(num_cpus=2, object_store_memory=100 * 2**20, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()


def _app_vectors(source: Path, cache: Path) -> dict[str, np.ndarray]:
    """What the app itself computes for every item of the source (its own embed_dataset, its own cache)."""
    from aldesk.core.embed.choose import choose_card
    from aldesk.core.sources import load_source

    ds = load_source(source)
    res = embed_dataset(ds, choose_card(ds), cache_dir=cache)  # the card a new project of this data takes
    return {ds.keys[i]: res.vectors[i] for i in np.flatnonzero(res.ok)}


def _table_vectors(folder: Path) -> dict[str, np.ndarray]:
    from aldesk.core.scaleout import table

    man = table.read_manifest(folder)
    out: dict[str, np.ndarray] = {}
    for c in table.iter_chunks(folder, man.dim):
        for item, vec in zip(c.items, c.vectors, strict=True):
            assert item not in out, f"{item} written twice"
            out[item] = vec
    return out


def _assert_same(a: dict[str, np.ndarray], b: dict[str, np.ndarray]) -> None:
    assert sorted(a) == sorted(b)
    diff = max(float(np.abs(a[k] - b[k]).max()) for k in a)
    assert diff <= 1e-5, diff


@pytest.mark.parametrize("kind", ["image", "text"])
def test_ray_equals_local_equals_the_app(kind, images, texts, cluster, tmp_path):
    from aldesk.core.scaleout import table
    from aldesk.core.scaleout.embed import run_embed

    source = images if kind == "image" else texts
    app = _app_vectors(source, tmp_path / "app-cache")
    local = run_embed(source, tmp_path / "local.vec", engine="local", batch=64)
    on_ray = run_embed(source, tmp_path / "ray.vec", engine="ray", batch=64, workers=2)
    _assert_same(_table_vectors(tmp_path / "local.vec"), app)
    _assert_same(_table_vectors(tmp_path / "ray.vec"), app)
    for rep in (local, on_ray):
        assert rep.embedded == len(app) and rep.skipped == 0
    man = table.read_manifest(tmp_path / "ray.vec")
    from aldesk.core.embed.choose import choose_card
    from aldesk.core.sources import load_source

    card = choose_card(load_source(source))
    assert (man.model_id, man.fingerprint, man.dim, man.kind) == (card.id, card.fingerprint, card.dim, kind)
    if kind == "image":
        assert [f["item"] for f in man.failures] == ["notes.png"] and man.failures[0]["reason"]
    # sha1 is the content's: the key the app's cache uses
    chunk = table.read_all(tmp_path / "ray.vec", man.dim)
    assert all(len(h) == 40 for h in chunk.sha1)
    # a rerun embeds nothing
    again = run_embed(source, tmp_path / "ray.vec", engine="ray", batch=64, workers=2)
    assert again.embedded == 0 and again.skipped == len(app)


def _worker_pids(session_leader: int) -> list[int]:
    """Ray actor processes of the embed job started by ``session_leader`` (found by their process title)."""
    pids = []
    for d in Path("/proc").iterdir():
        if not d.name.isdigit():
            continue
        try:
            if os.getsid(int(d.name)) != session_leader:
                continue
            cmd = (d / "cmdline").read_bytes().replace(b"\0", b" ")
        except (OSError, ProcessLookupError):
            continue
        if b"MapWorker" in cmd or b"BatchEmbedder" in cmd:
            pids.append(int(d.name))
    return pids


def test_a_worker_killed_mid_run_then_a_rerun_embeds_nothing_twice(texts, tmp_path):
    from aldesk.core.scaleout import table

    out = tmp_path / "t.vec"
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), ALDESK_RAY_OBJECT_STORE=str(80 * 2**20))
    cmd = [sys.executable, "-m", "aldesk", "embed", str(texts), "--out", str(out), "--engine", "ray"]
    cmd += ["--batch", "16", "--workers", "2", "--json"]
    proc = subprocess.Popen(
        cmd, env=env, start_new_session=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    killed = []
    try:
        deadline = time.monotonic() + 600
        while time.monotonic() < deadline and proc.poll() is None:
            if out.is_dir() and len(table.parts(out)) >= 2 and not killed:
                pids = _worker_pids(proc.pid)
                if pids:
                    os.kill(pids[0], signal.SIGKILL)
                    killed.append(pids[0])
                    break
            time.sleep(0.2)
        assert killed or proc.poll() is not None, "no worker to kill"
        proc.wait(timeout=600)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    before = table.written_items(out)
    assert before, "nothing was written before the kill"
    # The run either survived the kill (Ray replaced the actor) or stopped; the rerun finishes it either way and
    # embeds exactly what is not written yet.
    rerun = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=600, check=False)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    rep = json.loads(rerun.stdout.strip().splitlines()[-1])
    app = _app_vectors(texts, tmp_path / "app-cache")
    assert rep["skipped"] == len(before)
    assert rep["embedded"] == len(app) - len(before)
    _assert_same(_table_vectors(out), app)


def test_import_vectors_then_open_embeds_nothing(images, tmp_path, monkeypatch):
    from aldesk.app.import_vectors import import_vectors
    from aldesk.app.workspace import open_workspace
    from aldesk.core.neighbours.store import load_graph
    from aldesk.core.scaleout.embed import run_embed
    from aldesk.core.scaleout.graph import run_graph

    run_embed(images, tmp_path / "p.vec", engine="local", batch=100)
    run_graph(tmp_path / "p.vec", tmp_path / "p.graph", k=10)
    project = tmp_path / "photos.aldesk"
    cache = tmp_path / "cache"
    from aldesk.app.workspace import create_project
    from aldesk.core.sources import load_source

    create_project(project, load_source(images), ["tops", "shoes"]).project.close()  # as init does
    rep = import_vectors(project, tmp_path / "p.vec", tmp_path / "p.graph", cache_dir=cache)
    # notes.png is not an image: not in the table, and not usable when the app opens the project either
    assert (rep.items, rep.in_table, rep.missing, rep.graph) == (N_IMAGES + 1, N_IMAGES, 1, "imported")

    calls = []
    import aldesk.core.embed.pipeline as pipeline

    real_infer = pipeline._Run.infer

    def counting(self, feeds, mask=None):
        calls.append(len(next(iter(feeds.values()))))
        return real_infer(self, feeds, mask)

    monkeypatch.setattr(pipeline._Run, "infer", counting)
    ws = open_workspace(project, cache_dir=cache)
    try:
        assert calls == [], "the open ran the encoder"
        assert int(ws.session.eligible.sum()) == N_IMAGES
        from aldesk.app.workspace import graph_root

        g = load_graph(ws.vectors_key, graph_root(cache))
        assert g is not None and g[0].shape == (N_IMAGES, 10)
        # and it is the graph the app would have built
        from aldesk.core.neighbours.builder import knn_graph

        idx, sims = knn_graph(ws.session.X[ws.session.eligible], 10, method="exact")
        np.testing.assert_allclose(np.sort(g[1], axis=1), np.sort(sims, axis=1), atol=1e-5)
    finally:
        ws.close()


def test_a_table_of_another_model_is_refused(texts, tmp_path):
    from aldesk.app.import_vectors import import_vectors
    from aldesk.core.project import Project
    from aldesk.core.scaleout import table
    from aldesk.core.sources import load_source

    folder = tmp_path / "other.vec"
    folder.mkdir()
    card = default_card("text")
    table.write_manifest(folder, table.Manifest("some-other-model", "0" * 40, card.dim, "text"))
    project = tmp_path / "t.aldesk"
    Project.create(project, load_source(texts), ["a", "b"], model_id=card.id).close()
    before = project.read_bytes()
    with pytest.raises(UserError, match="some-other-model"):
        import_vectors(project, folder, cache_dir=tmp_path / "cache")
    assert project.read_bytes() == before
    # the CLI says it in one line
    r = subprocess.run(
        [sys.executable, "-m", "aldesk", "import-vectors", str(project), str(folder)],
        capture_output=True,
        text=True,
        check=False,
        env=dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache")),
    )
    assert r.returncode != 0 and "some-other-model" in r.stderr and len(r.stderr.strip().splitlines()) == 1


def test_embed_refuses_folders_it_did_not_make_and_the_source(images, tmp_path):
    from aldesk.core.scaleout.embed import run_embed

    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "keep.txt").write_text("mine")
    with pytest.raises(UserError, match="not empty"):
        run_embed(images, theirs)
    assert (theirs / "keep.txt").read_text() == "mine"
    with pytest.raises(UserError, match="overwrite"):
        run_embed(images, images / "vectors")
    # a table of the same model made from another source is not resumed into (their items would mix)
    other = tmp_path / "other_photos"
    other.mkdir()
    for src in sorted(images.glob("fm_00*.png"))[:3]:
        (other / src.name).write_bytes(src.read_bytes())
    run_embed(other, tmp_path / "other.vec")
    with pytest.raises(UserError, match="holds vectors of"):
        run_embed(images, tmp_path / "other.vec")
    link = tmp_path / "link"
    link.symlink_to(theirs)
    with pytest.raises(UserError, match="symbolic link"):
        run_embed(images, link)
    assert sorted(p.name for p in theirs.iterdir()) == ["keep.txt"]


def test_open_with_vectors_makes_the_project_and_the_open_embeds_nothing(tmp_path, monkeypatch):
    """``aldesk open reviews.csv --vectors TABLE`` (a real second process, offscreen window that exits once shown):
    the project is made as init would, the table goes into its caches, and opening it runs no encoder."""
    from aldesk.app.workspace import open_workspace
    from aldesk.core.scaleout.embed import run_embed

    data = tmp_path / "reviews.csv"
    rows = DEMO_TEXTS.read_text(encoding="utf-8").splitlines()[:31]  # the header and 30 real snippets
    data.write_text("\n".join(rows) + "\n", encoding="utf-8")
    cache = tmp_path / "xdg-cache"
    monkeypatch.setenv("XDG_CACHE_HOME", str(cache))
    run_embed(data, tmp_path / "r.vec", engine="local")
    env = dict(
        os.environ,
        XDG_CACHE_HOME=str(cache),
        XDG_DATA_HOME=str(tmp_path / "data"),
        QT_QPA_PLATFORM="offscreen",
    )
    env["ALDESK_EXIT_AFTER_SHOWN"] = "1"
    project = tmp_path / "reviews.aldesk"
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "aldesk",
            "open",
            str(data),
            "--project",
            str(project),
            "--vectors",
            str(tmp_path / "r.vec"),
        ],
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
        check=False,
    )
    assert r.returncode == 0, r.stderr[-2000:]
    assert project.is_file() and "30 of 30 items have vectors" in r.stderr
    import aldesk.core.embed.pipeline as pipeline

    calls = []
    real_infer = pipeline._Run.infer
    monkeypatch.setattr(
        pipeline._Run, "infer", lambda self, *a, **k: calls.append(1) or real_infer(self, *a, **k)
    )
    ws = open_workspace(project, cache_dir=cache / "aldesk" / "embeddings")
    try:
        assert calls == [] and int(ws.session.eligible.sum()) == 30
    finally:
        ws.close()
    # --graph without --vectors is a one-line misuse
    r = subprocess.run(
        [sys.executable, "-m", "aldesk", "open", str(data), "--graph", str(tmp_path)],
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert (
        r.returncode != 0
        and "--graph goes with --vectors" in r.stderr
        and len(r.stderr.strip().splitlines()) == 1
    )
