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
