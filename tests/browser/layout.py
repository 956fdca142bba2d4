"""Layout measurements of a page in a real browser: chart text boxes, clipping, equations, figure first.

Used by ``test_layout.py``. The browser reports raw geometry (one JavaScript call per
page), and the checks run here in Python:

* every visible SVG ``<text>`` of every Plotly chart (hover layers and hidden texts
  excluded) as the quadrilateral it covers on screen (its ``getBBox`` mapped through
  its screen transform, so rotated tick labels and bar labels that plotly shrinks to
  fit are measured as drawn), with its smallest font size in CSS px after that
  transform;
* overlaps: two quadrilaterals of one chart that intersect by more than
  :data:`OVERLAP_TOLERANCE` px along every separating axis (SAT);
* clipping: a text quadrilateral that leaves its chart or its column;
* equations (KaTeX) and markdown wider than their box, and widget labels cut short
  (a button label shrunk to an ellipsis);
* figure first: the bounding boxes of a page's main figure and its control.
"""

from __future__ import annotations

from dataclasses import dataclass, field

OVERLAP_TOLERANCE = 1.5
"""Boxes touching by up to this many px are not an overlap (glyph boxes include line spacing)."""
CLIP_TOLERANCE = 1.0

MEASURE_JS = r"""
() => {
  const visible = (el) => el.checkVisibility({opacityProperty: true, visibilityProperty: true});
  const rect = (el) => { const r = el.getBoundingClientRect(); return [r.left, r.top, r.right, r.bottom]; };
  // the nearest column that has a box of its own (a stacked column can be display: contents, its
  // elements then laid out by the row around it)
  const boxOf = (el) => {
    for (let c = el.closest('[data-testid="stColumn"]'); c; c = c.parentElement?.closest('[data-testid="stColumn"]'))
      if (getComputedStyle(c).display !== 'contents') return c;
    return el.closest('[data-testid="stSidebarContent"]') || el.closest('[data-testid="stMainBlockContainer"]')
      || document.body;
  };
  const keyOf = (el, fallback) => {
    const holder = el.closest('[class*="st-key-"]');
    const cls = holder ? [...holder.classList].find(c => c.startsWith('st-key-')) : null;
    return cls ? cls.slice(7) : fallback;
  };
  const charts = [];
  document.querySelectorAll('.js-plotly-plot').forEach((plot, index) => {
    const outer = plot.getBoundingClientRect();
    if (outer.width === 0 || outer.height === 0 || !visible(plot)) return;
    const texts = [];
    plot.querySelectorAll('svg text').forEach((el) => {
      if (el.closest('.hoverlayer, .hovertext, .modebar, .spikeline')) return;
      const content = (el.textContent || '').replace(/\s+/g, ' ').trim();
      if (!content || !visible(el)) return;
      let bb; try { bb = el.getBBox(); } catch (e) { return; }
      if (bb.width === 0 || bb.height === 0) return;
      const m = el.getScreenCTM(); if (!m) return;
      const pt = (x, y) => [m.a * x + m.c * y + m.e, m.b * x + m.d * y + m.f];
      const quad = [pt(bb.x, bb.y), pt(bb.x + bb.width, bb.y), pt(bb.x + bb.width, bb.y + bb.height),
                    pt(bb.x, bb.y + bb.height)];
      const scale = Math.sqrt(Math.abs(m.a * m.d - m.b * m.c));
      // the size glyphs are drawn at: of each element that holds text itself (a <sub> wrapper may not)
      const ownText = (node) => [...node.childNodes].some((c) => c.nodeType === 3 && c.textContent.trim());
      let size = Infinity;
      [el, ...el.querySelectorAll('tspan')].forEach((t) => {
        if (ownText(t)) size = Math.min(size, parseFloat(getComputedStyle(t).fontSize));
      });
      if (size === Infinity) size = parseFloat(getComputedStyle(el).fontSize);
      texts.push({text: content, quad: quad, size: size * scale});
    });
    charts.push({key: keyOf(plot, 'chart' + index), rect: [outer.left, outer.top, outer.right, outer.bottom],
                 column: rect(boxOf(plot)), texts: texts});
  });
  const overflows = [];
  // a collapsed sidebar keeps its content in the DOM, squeezed to nothing and off screen: not on view
  const inClosedSidebar = (el) => {
    const bar = el.closest('[data-testid="stSidebar"]');
    if (!bar) return false;
    const r = bar.getBoundingClientRect();
    return r.width < 50 || r.right <= 1;
  };
  const wide = (el, kind, label) => {
    if (!visible(el) || inClosedSidebar(el)) return;
    const box = rect(boxOf(el)), r = rect(el);
    if (el.scrollWidth > el.clientWidth + 1) {
      overflows.push({kind, text: label, detail: `content ${el.scrollWidth} px wide in a ${el.clientWidth} px box`});
    } else if (r[2] > box[2] + 1 || r[0] < box[0] - 1) {
      overflows.push({kind, text: label, detail: `spans x ${r[0].toFixed(0)}-${r[2].toFixed(0)}, column ` +
                                                 `${box[0].toFixed(0)}-${box[2].toFixed(0)}`});
    }
  };
  const katexText = (el) => {
    const ann = el.querySelector('annotation');
    return (ann ? ann.textContent : el.textContent).replace(/\s+/g, ' ').trim().slice(0, 80);
  };
  document.querySelectorAll('.katex-display').forEach((el) => wide(el, 'equation', katexText(el)));
  document.querySelectorAll('.katex').forEach((el) => {
    if (el.closest('.katex-display')) return;
    wide(el, 'equation', katexText(el));
  });
  document.querySelectorAll('[data-testid="stMarkdownContainer"]').forEach((el) => {
    if (el.querySelector('.katex-display')) return;
    wide(el, 'markdown', el.innerText.replace(/\s+/g, ' ').trim().slice(0, 80));
  });
  document.querySelectorAll('[data-testid="stMarkdownContainer"] table').forEach((el) => {
    const box = rect(boxOf(el)), r = rect(el);
    if (visible(el) && r[2] > box[2] + 1) {
      overflows.push({kind: 'table', text: el.innerText.replace(/\s+/g, ' ').trim().slice(0, 80),
                      detail: `ends at x ${r[2].toFixed(0)}, column at ${box[2].toFixed(0)}`});
    }
  });
  document.querySelectorAll('button p, [data-testid="stWidgetLabel"] p').forEach((el) => {
    if (!visible(el) || inClosedSidebar(el) || !el.textContent.trim()) return;
    if (el.scrollWidth > el.clientWidth + 1) {
      overflows.push({kind: 'label', text: el.textContent.trim().slice(0, 80),
                      detail: `label ${el.scrollWidth} px wide in ${el.clientWidth} px`});
    }
  });
  return {charts, overflows, viewport: [window.innerWidth, window.innerHeight]};
}
"""


@dataclass
class Problem:
    """One failed check, phrased for a person: what, where, and the strings involved."""

    kind: str
    chart: str
    text: str
    other: str = ""
    detail: str = ""

    def __str__(self) -> str:
        where = f"[{self.chart}] " if self.chart else ""
        pair = f"{self.text!r} and {self.other!r}" if self.other else repr(self.text)
        return f"{self.kind}: {where}{pair}" + (f" ({self.detail})" if self.detail else "")


@dataclass
class Report:
    """Everything measured on one page state at one viewport."""

    overlaps: list[Problem] = field(default_factory=list)
    clipped: list[Problem] = field(default_factory=list)
    overflows: list[Problem] = field(default_factory=list)
    sizes: list[tuple[float, str, str]] = field(default_factory=list)  # (px, chart, text) of every chart text
    texts: int = 0

    @property
    def smallest(self) -> tuple[float, str, str] | None:
        return min(self.sizes) if self.sizes else None

    def small(self, minimum: float) -> list[Problem]:
        """Chart texts drawn smaller than ``minimum`` CSS px."""
        return [
            Problem("small text", chart, text, detail=f"{size:.1f} px < {minimum:g} px")
            for size, chart, text in sorted(self.sizes)
            if size < minimum - 0.05
        ]


Point = tuple[float, float]


def _axes(quad: list[Point]) -> list[Point]:
    """The two edge normals of a parallelogram (a text box under an affine map)."""
    normals = []
    for (x0, y0), (x1, y1) in ((quad[0], quad[1]), (quad[1], quad[2])):
        dx, dy = x1 - x0, y1 - y0
        length = (dx * dx + dy * dy) ** 0.5 or 1.0
        normals.append((-dy / length, dx / length))
    return normals


def _overlap_depth(a: list[Point], b: list[Point]) -> float:
    """Smallest overlap of the two quads' projections over every separating axis (<= 0: apart)."""
    depth = float("inf")
    for nx, ny in _axes(a) + _axes(b):
        pa = [x * nx + y * ny for x, y in a]
        pb = [x * nx + y * ny for x, y in b]
        depth = min(depth, min(max(pa), max(pb)) - max(min(pa), min(pb)))
    return depth


def _outside(quad: list[Point], box: list[float]) -> float:
    """How far (px) a quad sticks out of an axis-aligned box ``[left, top, right, bottom]``."""
    xs, ys = [p[0] for p in quad], [p[1] for p in quad]
    return max(box[0] - min(xs), box[1] - min(ys), max(xs) - box[2], max(ys) - box[3], 0.0)


def analyse(raw: dict) -> Report:
    """Turn the browser's raw geometry into overlaps, clipped texts, overflows and text sizes."""
    report = Report()
    for chart in raw["charts"]:
        texts = chart["texts"]
        report.texts += len(texts)
        for t in texts:
            report.sizes.append((t["size"], chart["key"], t["text"]))
            out_chart = _outside(t["quad"], chart["rect"])
            out_column = _outside(t["quad"], chart["column"])
            if out_chart > CLIP_TOLERANCE or out_column > CLIP_TOLERANCE:
                by = "chart" if out_chart >= out_column else "column"
                detail = f"{max(out_chart, out_column):.0f} px outside its {by}"
                report.clipped.append(Problem("clipped", chart["key"], t["text"], detail=detail))
        for i, a in enumerate(texts):
            for b in texts[i + 1 :]:
                depth = _overlap_depth(a["quad"], b["quad"])
                if depth > OVERLAP_TOLERANCE:
                    report.overlaps.append(
                        Problem("overlap", chart["key"], a["text"], b["text"], detail=f"by {depth:.1f} px")
                    )
    for item in raw["overflows"]:
        report.overflows.append(Problem(f"{item['kind']} overflow", "", item["text"], detail=item["detail"]))
    return report


def inside_viewport(box: dict | None, width: float, height: float) -> bool:
    """Whether a Playwright bounding box lies wholly inside the first screen (no scrolling)."""
    if not box:
        return False
    return (
        box["x"] >= -1
        and box["y"] >= -1
        and box["x"] + box["width"] <= width + 1
        and box["y"] + box["height"] <= height + 1
    )


def summary(folder: str = "artifacts/layout") -> str:
    """The saved measurements as a markdown table: overlaps, clipped, overflows, smallest text, figure first."""
    import json
    from pathlib import Path

    lines = [
        "| state | viewport | overlaps | clipped | overflows | smallest px | figure first |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    ]
    for path in sorted(Path(folder).glob("*.json")):
        doc = json.loads(path.read_text())
        smallest = f"{doc['smallest'][0]:.1f}" if doc["smallest"] else "-"
        first = " ".join(f"{k} {'yes' if v else 'no'}" for k, v in doc["figure_first"].items()) or "-"
        lines.append(
            f"| {doc['state']} | {doc['viewport']} | {len(doc['overlaps'])} | {len(doc['clipped'])} | "
            f"{len(doc['overflows'])} | {smallest} | {first} |"
        )
    return "\n".join(lines)


if __name__ == "__main__":
    import sys

    print(summary(*sys.argv[1:]))
