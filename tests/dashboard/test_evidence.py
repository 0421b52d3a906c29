"""Evidence on staff pages: stored media through /media, a foreign URL only as a link (never fetched)."""

from __future__ import annotations

from dash import html

from dashboard.components import make_evidence


def _walk(node):
    yield node
    children = getattr(node, "children", None)
    for child in children if isinstance(children, list) else [children] if children is not None else []:
        yield from _walk(child)


def test_a_foreign_media_url_is_a_plain_link_and_never_an_image():
    div = make_evidence("console", ["https://tracker.example/pixel.jpg", "field/20250101/a.jpg",
                                    "javascript:alert(1).jpg"], "zh")
    nodes = list(_walk(div))
    images = [n.src for n in nodes if isinstance(n, html.Img)]
    assert images == ["/media/field/20250101/a.jpg"]
    links = [n for n in nodes if isinstance(n, html.A)]
    assert [a.href for a in links] == ["https://tracker.example/pixel.jpg"]
    assert links[0].rel == "noopener noreferrer nofollow" and links[0].children == links[0].href


def test_a_clip_whose_file_is_missing_is_a_sentence_not_an_empty_player(tmp_path):
    snap, clip = "camera/CAM1/20250101/s1.jpg", "camera/CAM1/20250101/s1.webm"
    (tmp_path / snap).parent.mkdir(parents=True)
    (tmp_path / snap).write_bytes(b"jpeg")
    nodes = list(_walk(make_evidence("console", [snap, clip], "zh", root=tmp_path)))
    assert not [n for n in nodes if isinstance(n, html.Video)]
    missing = [n for n in nodes if isinstance(n, html.Span) and "gw-media-missing" in (n.className or "")]
    assert [m.children for m in missing] == ["录像尚未生成或已缺失"]
    assert [n.src for n in nodes if isinstance(n, html.Img)] == [f"/media/{snap}"]
    # Once written, the player is there.
    (tmp_path / clip).write_bytes(b"webm")
    nodes = list(_walk(make_evidence("console", [snap, clip], "en", root=tmp_path)))
    assert [n.src for n in nodes if isinstance(n, html.Video)] == [f"/media/{clip}"]
