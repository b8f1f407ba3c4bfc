"""progress.toml: learner edits survive, unreadable files are backed up, writes are atomic."""

import tomlkit

from checker import catalog, paths, state


def test_fresh_progress_lists_every_kata_and_item():
    course = catalog.course()
    doc = state.fresh(course)
    assert set(doc["katas"]) == {k.id for k in course.katas}
    assert set(doc["items"]) == {i.id for i in course.items}


def test_learner_comments_notes_and_reading_ticks_survive_a_rewrite(tmp_path):
    course = catalog.course()
    path = tmp_path / "progress.toml"
    state.save(state.fresh(course), path)
    reading = next(i for i in course.items if i.reading)
    text = path.read_text().replace("[items.", "# my own comment\n[items.", 1)
    path.write_text(text)
    doc = state.load(course, path)
    doc["items"][reading.id]["done"] = True
    doc["katas"][course.katas[0].id]["notes"] = "revisit the XOR proof"
    state.save(doc, path)
    again = state.load(course, path)
    assert "# my own comment" in path.read_text()
    assert again["items"][reading.id]["done"] is True
    assert again["katas"][course.katas[0].id]["notes"] == "revisit the XOR proof"


def test_an_unreadable_progress_file_is_backed_up_and_rebuilt(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "STATE", tmp_path / ".dlkatas")
    course = catalog.course()
    path = tmp_path / "progress.toml"
    path.write_text("[katas\nthis is = not toml ===")
    messages = []
    doc = state.load(course, path, echo=lambda *a, **k: messages.append(" ".join(map(str, a))))
    assert set(doc["katas"]) == {k.id for k in course.katas}
    backups = list((tmp_path / ".dlkatas" / "backups").iterdir())
    assert len(backups) == 1 and backups[0].read_text() == "[katas\nthis is = not toml ==="
    assert "could not be read" in messages[0] and "saved as" in messages[0]


def test_a_wrongly_shaped_progress_file_is_treated_as_unreadable(tmp_path, monkeypatch):
    monkeypatch.setattr(paths, "STATE", tmp_path / ".dlkatas")
    path = tmp_path / "progress.toml"
    path.write_text('katas = "oops"\n')
    doc = state.load(catalog.course(), path, echo=lambda *a, **k: None)
    assert isinstance(doc["katas"], tomlkit.items.Table)


def test_save_leaves_no_temporary_file(tmp_path):
    path = tmp_path / "progress.toml"
    state.save(state.fresh(catalog.course()), path)
    assert [p.name for p in tmp_path.iterdir()] == ["progress.toml"]
