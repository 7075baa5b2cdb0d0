"""Issue 13's accessibility, page by page: every input labelled, every button named, the
keyboard reaches the controls with a visible focus ring, and each page is usable at
1280x800 and on a 768-pixel-wide tablet (the document never scrolls sideways; wide tables
scroll inside their own box)."""

from __future__ import annotations

from typing import Any

import pytest
from playwright.sync_api import Page

from tests.e2e.conftest import ServerProcess
from tests.web.conftest import signed_in
from tests.web.test_signin import api

pytestmark = pytest.mark.e2e  # a real server process and a browser

# The form controls a person can reach that have no accessible name: a <label for>, a
# wrapping <label>, aria-label or aria-labelledby. Buttons need text or aria-label.
UNLABELLED = """() => {
  const visible = (e) => !!(e.offsetWidth || e.offsetHeight || e.getClientRects().length);
  const named = (e) => (e.labels && e.labels.length > 0)
      || (e.getAttribute('aria-label') || '').trim() !== ''
      || (e.getAttribute('aria-labelledby') || '').trim() !== '';
  const out = [];
  for (const e of document.querySelectorAll('input, select, textarea')) {
    if (e.type === 'hidden' || !visible(e)) continue;
    if (e.type === 'submit' || e.type === 'button') {
      if ((e.value || '').trim() === '' && !named(e)) out.push(e.outerHTML.slice(0, 120));
      continue;
    }
    if (!named(e)) out.push(e.outerHTML.slice(0, 120));
  }
  for (const b of document.querySelectorAll('button')) {
    if (!visible(b)) continue;
    if ((b.textContent || '').trim() === '' && !named(b)) out.push(b.outerHTML.slice(0, 120));
  }
  return out;
}"""

# What the focused element looks like: its outline (the stylesheet's :focus-visible ring).
FOCUS_RING = """() => {
  const e = document.activeElement;
  if (!e || e === document.body) return null;
  const s = getComputedStyle(e);
  return {tag: e.tagName, text: (e.textContent || e.value || '').trim().slice(0, 40),
          style: s.outlineStyle, width: parseFloat(s.outlineWidth)};
}"""


TAB_STOPS = 20  # the navigation, then the first of the page's own links and controls


def _count_in_progress(server: ServerProcess) -> str:
    """A started count with one bin counted (so the review and the preview have lines)."""
    with api(server, "super") as client:
        made = client.post(
            "/api/counts", json={"location": "MAIN", "scope": "prefix", "prefix": "A-"}
        )
        assert made.status_code == 201, made.text
        number = str(made.json()["number"])
        assert client.post(f"/api/counts/{number}/start").status_code == 200
        return number


def _pages(server: ServerProcess) -> list[tuple[str, str]]:
    number = _count_in_progress(server)
    return [
        ("super", "/counts"),
        ("super", "/counts/new"),
        ("super", f"/counts/{number}"),
        ("super", f"/counts/{number}/review"),
        ("super", f"/counts/{number}/preview"),
        ("super", f"/counts/{number}/sheet"),
        ("super", f"/counts/{number}/sheet/key"),
        ("super", "/documents"),
        ("super", "/devices"),
        ("super", "/journal"),
        ("super", "/journal/new"),
        ("super", "/journal/wizards"),
        ("admin", "/counters"),
        ("admin", "/device-settings"),
    ]


def _problems_on(page: Page) -> list[str]:
    found: list[str] = [f"unlabelled: {html}" for html in page.evaluate(UNLABELLED)]
    # the keyboard: the first tab stops (the navigation, then the page's own links and
    # controls) each show the focus ring
    page.locator("body").focus()
    for _ in range(TAB_STOPS):
        page.keyboard.press("Tab")
        focused: dict[str, Any] | None = page.evaluate(FOCUS_RING)
        if focused is None:
            break  # past the last control: the page has fewer stops
        if focused["style"] == "none" or focused["width"] < 2:
            found.append(f"no visible focus on {focused['tag']} {focused['text']!r}")
    # the tablet: nothing makes the page itself scroll sideways
    page.set_viewport_size({"width": 768, "height": 1024})
    if not page.evaluate("document.documentElement.scrollWidth <= window.innerWidth"):
        width = page.evaluate("document.documentElement.scrollWidth")
        found.append(f"scrolls sideways at 768 px ({width} px wide)")
    page.set_viewport_size({"width": 1280, "height": 800})
    return found


def test_every_page_is_labelled_keyboard_usable_and_fits_a_tablet(
    page: Page, web_server: ServerProcess
) -> None:
    user = ""
    problems: dict[str, list[str]] = {}
    for who, path in _pages(web_server):
        if who != user:
            page.context.clear_cookies()
            signed_in(page, who)
            user = who
        answer = page.goto(path)
        assert answer is not None and answer.status == 200, (path, answer and answer.status)
        found = _problems_on(page)
        if found:
            problems[path] = found
    assert problems == {}


def test_the_check_finds_an_unlabelled_field_and_a_missing_focus_ring(
    page: Page, web_server: ServerProcess
) -> None:
    """The check above is not blind: a page with an unlabelled input, a focus ring taken
    away and a table wider than a tablet fails each of its three parts."""
    signed_in(page, "super")
    page.goto("/counts")
    page.evaluate(
        """() => {
          const i = document.createElement('input'); i.name = 'nameless';
          document.querySelector('main').prepend(i);
          const s = document.createElement('style');
          s.textContent = '*:focus-visible { outline: none !important; }'
            + ' .too-wide { width: 1400px; height: 4px; }';
          document.head.append(s);
          const d = document.createElement('div'); d.className = 'too-wide';
          document.querySelector('main').append(d);
        }"""
    )
    found = _problems_on(page)
    assert any(p.startswith('unlabelled: <input name="nameless"') for p in found), found
    assert any(p.startswith("no visible focus") for p in found), found
    assert any(p.startswith("scrolls sideways") for p in found), found
