// memviz step player: step, scrub and play through an episode in the browser, with no server round trip.
//
// Mounted by memviz/ui/stepper.py as a Streamlit components.v2 component (no iframe). Python sends once
// per episode a list of panels: Plotly figures as a skeleton plus per-step channels (memviz/figures/stepped.py),
// or per-step HTML. This module draws each figure once with plotly.js (served from the installed plotly
// package) and, on a step change, writes that step's values into it and calls Plotly.react: the chart is
// updated in place, never re-created. The step goes to the URL (?key=N, history.replaceState) at once, and
// to Python (setStateValue) only when the user reaches for another control, so stepping never reruns the script.

const STATE = "__memvizStepper"; // per-mount state kept on the parent element across re-invocations
const SPEEDS_DEFAULT = [0.5, 1, 2, 4];

// ------------------------------------------------------------------ plotly.js, loaded once per page
function loadPlotly(url) {
  if (window.Plotly) return Promise.resolve(window.Plotly);
  if (!window.__memvizPlotlyLoading) {
    window.__memvizPlotlyLoading = new Promise((resolve, reject) => {
      const script = document.createElement("script");
      script.src = new URL(url, document.baseURI).href;
      script.onload = () => resolve(window.Plotly);
      script.onerror = () => reject(new Error(`could not load plotly.js from ${url}`));
      document.head.appendChild(script);
    });
  }
  return window.__memvizPlotlyLoading;
}

// ------------------------------------------------------------------ channels: per-step values
function base64Bytes(text) {
  const binary = atob(text);
  const bytes = new Uint8Array(binary.length);
  for (let i = 0; i < binary.length; i++) bytes[i] = binary.charCodeAt(i);
  return bytes;
}

// Deflated (zlib) base64 -> bytes, with the browser's own DecompressionStream.
async function inflate(text) {
  const stream = new Blob([base64Bytes(text)]).stream().pipeThrough(new DecompressionStream("deflate"));
  return new Uint8Array(await new Response(stream).arrayBuffer());
}

async function inflateJson(text) {
  return JSON.parse(new TextDecoder().decode(await inflate(text)));
}

// A numeric channel as one Float32Array over all steps. 8-bit codes arrive as differences from the
// previous step (mod 256): summed back along the steps, then dequantised (255 -> NaN, a gap).
export async function decodeChannel(channel) {
  const bytes = await inflate(channel.bdata);
  if (channel.dtype === "f4") return new Float32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength / 4);
  const stride = channel.shape.slice(1).reduce((a, b) => a * b, 1);
  for (let i = stride; i < bytes.length; i++) bytes[i] = (bytes[i] + bytes[i - stride]) & 255;
  const span = channel.hi > channel.lo ? channel.hi - channel.lo : 1;
  const out = new Float32Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) out[i] = bytes[i] === 255 ? NaN : channel.lo + (bytes[i] * span) / 254;
  return out;
}

// Decode a panel's data once when it arrives (channels, per-step strings, per-step HTML).
async function preparePanel(panel) {
  if (panel.figure) {
    const texts = await inflateJson(panel.figure.texts);
    for (const channel of panel.figure.channels) {
      if ("text" in channel) channel.values = texts[channel.text];
      else channel.decoded = await decodeChannel(channel);
    }
  } else if (typeof panel.html === "string") {
    panel.html = await inflateJson(panel.html);
  }
}

// Step t of a decoded channel as plain (nested) arrays, NaN as null (a gap for plotly).
function stepValue(values, shape, t) {
  const inner = shape.slice(1);
  const size = inner.reduce((a, b) => a * b, 1);
  const flat = values.subarray(t * size, (t + 1) * size);
  const num = (v) => (Number.isNaN(v) ? null : v);
  if (inner.length === 0) return num(flat[0]);
  const build = (offset, dims) => {
    if (dims.length === 1) {
      const row = new Array(dims[0]);
      for (let i = 0; i < dims[0]; i++) row[i] = num(flat[offset + i]);
      return row;
    }
    const step = dims.slice(1).reduce((a, b) => a * b, 1);
    const rows = new Array(dims[0]);
    for (let i = 0; i < dims[0]; i++) rows[i] = build(offset + i * step, dims.slice(1));
    return rows;
  };
  return build(0, inner);
}

// A copy of `root` with `value` at `path`, copying only the containers on the way (plotly sees new objects).
function withValue(root, path, value) {
  if (path.length === 0) return value;
  const copy = Array.isArray(root) ? root.slice() : { ...root };
  copy[path[0]] = withValue(root[path[0]], path.slice(1), value);
  return copy;
}

// The figure at step t: the skeleton with every channel's value for t written in.
function valueAt(channel, t) {
  return channel.values ? channel.values[t] : stepValue(channel.decoded, channel.shape, t);
}

export function figureAt(panel, t) {
  let spec = panel.figure.spec;
  for (const channel of panel.figure.channels) spec = withValue(spec, channel.path, valueAt(channel, t));
  return spec;
}

// ------------------------------------------------------------------ the URL carries the step
// history.replaceState costs several milliseconds: while steps follow each other (a held arrow key, play)
// the URL is written once they pause for URL_DELAY_MS, with the last step.
const URL_DELAY_MS = 150;
const urlTimers = {};

function writeStepToUrl(key, step) {
  window.__memvizStepKeys = window.__memvizStepKeys || {};
  window.__memvizStepKeys[key] = { step, path: window.location.pathname };
  clearTimeout(urlTimers[key]);
  urlTimers[key] = setTimeout(() => {
    const url = new URL(window.location.href);
    if (url.searchParams.get(key) === String(step)) return;
    url.searchParams.set(key, String(step));
    history.replaceState(history.state, "", url);
  }, URL_DELAY_MS);
}

// Streamlit rewrites the URL from the server's query parameters after a rerun, which knows an older step:
// keep ours on the same page (installed once per page; a different path means another page, no longer ours).
function keepStepInUrl() {
  if (window.__memvizHistoryHooked) return;
  window.__memvizHistoryHooked = true;
  for (const name of ["replaceState", "pushState"]) {
    const original = history[name].bind(history);
    history[name] = (state, unused, url) => {
      if (url !== undefined && url !== null) {
        const next = new URL(String(url), window.location.href);
        for (const [key, entry] of Object.entries(window.__memvizStepKeys || {})) {
          if (entry.path === next.pathname) next.searchParams.set(key, String(entry.step));
        }
        url = next.href;
      }
      return original(state, unused, url);
    };
  }
}

// ------------------------------------------------------------------ DOM
function element(tag, className, text) {
  const node = document.createElement(tag);
  if (className) node.className = className;
  if (text !== undefined) node.textContent = text;
  return node;
}

function buildControls(state) {
  const bar = element("div", "mvs-bar");
  const button = (label, title, action) => {
    const b = element("button", "mvs-btn", label);
    b.type = "button";
    b.title = title;
    b.setAttribute("aria-label", title);
    b.addEventListener("click", action);
    bar.appendChild(b);
    return b;
  };
  const unit = state.data.unit;
  state.ui.play = button("▶", "Play (space)", () => state.toggle());
  state.ui.play.classList.add("mvs-play");
  state.ui.first = button("«", `First ${unit}`, () => state.go(0));
  state.ui.prev = button("‹", `Previous ${unit} (←)`, () => state.go(state.step - 1));
  state.ui.next = button("›", `Next ${unit} (→)`, () => state.go(state.step + 1));
  state.ui.last = button("»", `Last ${unit}`, () => state.go(state.steps - 1));
  const speed = element("select", "mvs-speed");
  speed.title = `${unit}s per second`;
  speed.setAttribute("aria-label", `Play speed (${unit}s per second)`);
  for (const s of state.data.speeds || SPEEDS_DEFAULT) {
    const option = element("option", "", `${s}/s`);
    option.value = String(s);
    speed.appendChild(option);
  }
  speed.value = String(state.speed);
  speed.addEventListener("change", () => {
    state.speed = Number(speed.value);
    if (state.playing) state.startPlay(); // restart the clock at the new rate
  });
  bar.appendChild(speed);
  const slider = element("input", "mvs-slider");
  slider.type = "range";
  slider.min = "0";
  slider.step = "1";
  slider.setAttribute("aria-label", unit);
  slider.addEventListener("input", () => state.go(Number(slider.value)));
  bar.appendChild(slider);
  const label = element("span", "mvs-label");
  bar.appendChild(label);
  Object.assign(state.ui, { speed, slider, label });
  return bar;
}

function buildPanels(state, Plotly) {
  state.ui.panels.replaceChildren();
  if (state.visibility) state.visibility.disconnect();
  state.plots = [];
  for (const panel of state.data.panels) {
    const box = element("div", "mvs-panel");
    box.dataset.panel = panel.id;
    if (panel.width) box.style.flex = `${panel.width} 1 ${Math.round(panel.width * 40)}rem`; // side by side, wraps
    state.ui.panels.appendChild(box);
    if (!panel.figure) box.classList.add("mvs-html");
    // a figure's box keeps its figure's height before it is drawn, so the page is laid out as it will be
    if (panel.figure) box.dataset.pending = "1"; // not drawn yet
    if (panel.figure && panel.figure.spec.layout.height) box.style.minHeight = `${panel.figure.spec.layout.height}px`;
    state.plots.push({ box, panel, shown: null, visible: true, drawn: false, width: 0 });
  }
  measureWidths(state); // one layout pass for all panels, before any chart is drawn
  // Charts on the first screen are drawn now; those below the fold or in a closed panel when they come into
  // view (watchVisibility): opening a page does not pay for charts nobody has looked at yet.
  for (const plot of state.plots) plot.visible = !plot.panel.figure || inView(plot.box);
  for (const plot of state.plots) if (plot.panel.figure && plot.visible) drawFirst(state, plot, state.step);
  state.visibility = watchVisibility(state);
}

const VIEW_MARGIN_PX = 120; // a chart this close to the screen is drawn already, before it scrolls in

function inView(box) {
  const rect = box.getBoundingClientRect();
  return rect.width > 0 && rect.top < window.innerHeight + VIEW_MARGIN_PX && rect.bottom > -VIEW_MARGIN_PX;
}

// What Plotly.react cannot carry a chart across: its traces' types, its axes and its height. A lesson's
// next step may bring another kind of figure into the same panel; react then kept the old axes' domains
// (a squashed, overlapping chart), so a figure of another structure is created anew instead.
function structureOf(spec) {
  const axes = Object.keys(spec.layout).filter((k) => /^[xy]axis\d*$/.test(k)).sort();
  return JSON.stringify([spec.data.map((trace) => trace.type || "scatter"), axes, spec.layout.height || 0]);
}

// A figure's first drawing (plotly creates the chart): counted in data-created, which the tests read.
function drawFirst(state, plot, t) {
  const spec = figureAt(plot.panel, t);
  if (plot.drawn) window.Plotly.purge(plot.box);
  window.Plotly.newPlot(plot.box, spec.data, sized(spec.layout, plot), state.data.config || {});
  plot.structure = structureOf(spec);
  plot.box.style.minHeight = "";
  delete plot.box.dataset.pending;
  plot.drawn = true;
  placeCurtains(plot);
  showCurtains(plot, t);
  plot.shown = t;
  plot.box.dataset.step = String(t);
  plot.box.dataset.created = String((Number(plot.box.dataset.created) || 0) + 1);
}

// New data for the same panels (an override, a temperature): decode it and redraw in place.
function samePanels(a, b) {
  return a.length === b.length && a.every((p, i) => p.id === b[i].id && !!p.figure === !!b[i].figure);
}

function adoptPanels(state) {
  state.plots.forEach((plot, i) => {
    plot.panel = state.data.panels[i];
    plot.shown = null; // new numbers: every panel is redrawn in full when it is next shown
  });
}

// ------------------------------------------------------------------ drawing a step
// The figure's own height, the panel's width: set here (not plotly's "responsive", which also takes the
// height from the container). Widths are read once for all panels (at build and when the row is resized),
// never between two charts' updates, where reading one would force the browser to lay out the page again.
function sized(layout, plot) {
  return plot.width > 0 ? { ...layout, width: plot.width, autosize: false } : layout;
}

function measureWidths(state) {
  for (const plot of state.plots) plot.width = plot.box.clientWidth;
}

function watchWidth(state) {
  let last = state.ui.panels.clientWidth;
  let timer = null;
  const observer = new ResizeObserver(() => {
    const width = state.ui.panels.clientWidth;
    if (width === last) return;
    last = width;
    clearTimeout(timer);
    timer = setTimeout(() => {
      measureWidths(state);
      for (const plot of state.plots) plot.shown = null; // a new width: redraw in full
      draw(state);
    }, 120);
  });
  observer.observe(state.ui.panels);
  return observer;
}

// A panel scrolled out of sight (below the fold, in a closed expander) is not redrawn on every step:
// it is brought to the step on screen when it comes into view. What a viewer sees is always current.
function watchVisibility(state) {
  const observer = new IntersectionObserver(
    (entries) => {
      for (const entry of entries) {
        const plot = state.plots.find((p) => p.box === entry.target);
        if (!plot) continue;
        plot.visible = entry.isIntersecting;
        if (plot.visible && plot.shown !== state.step) showStep(state, plot, state.step);
      }
    },
    { rootMargin: `${VIEW_MARGIN_PX}px 0px` },
  );
  for (const plot of state.plots) observer.observe(plot.box);
  return observer;
}

// Whether a channel has the same value at steps a and b (numbers compared as stored, NaN equal to NaN).
function sameAt(channel, a, b) {
  if (channel.values) {
    const x = channel.values[a];
    const y = channel.values[b];
    return x === y || JSON.stringify(x) === JSON.stringify(y);
  }
  const size = channel.shape.slice(1).reduce((m, n) => m * n, 1);
  const v = channel.decoded;
  for (let i = 0, p = a * size, q = b * size; i < size; i++, p++, q++) {
    if (v[p] !== v[q] && !(Number.isNaN(v[p]) && Number.isNaN(v[q]))) return false;
  }
  return true;
}

// The relayout edits that bring a figure's layout to `spec`'s for the changed layout channels: one whole
// item per shape or annotation ("shapes[3]"), one whole container otherwise ("xaxis"). plotly redraws a
// replaced item alone; an edit of one of its attributes ("shapes[3].x0") can cost a full replot.
function layoutEdits(changed, spec) {
  const edits = {};
  for (const { path } of changed) {
    const [, container, index] = path;
    if (typeof index === "number") edits[`${container}[${index}]`] = spec.layout[container][index];
    else edits[container] = spec.layout[container];
  }
  return edits;
}

const isLayoutEdit = (channel) => channel.path[0] === "layout" && channel.path.length > 1;

// ------------------------------------------------------------------ heatmap cells, repainted in place
// A step that changes only a heatmap's cells (the NTM memory matrix being written) need not
// pay for Plotly.react, which redraws every axis, colour bar and margin of the figure (30-60 ms a step).
// plotly draws such a heatmap (linear axes, no gaps, a fixed colour range) as one image with a pixel per
// cell; the player paints that image itself with plotly's colour rule (a linear RGBA interpolation between
// the colour scale's stops, clamped at zmin and zmax) and hands plotly the new values for its hover.
// Anything else (a new shape of matrix, a moving colour range, other traces) goes through Plotly.react.
const CELL_KEYS = new Set(["z", "text", "hovertext", "customdata"]);
const XLINK = "http://www.w3.org/1999/xlink";
const isCellEdit = (channel) => channel.path[0] === "data" && CELL_KEYS.has(channel.path[2]);

function heatmapImage(gd, index) {
  for (const group of gd.querySelectorAll("g.hm")) {
    const cd = group.__data__; // plotly's calcdata of the trace this group draws
    if (cd && cd[0] && cd[0].trace && cd[0].trace.index === index) return { cd0: cd[0], image: group.querySelector("image") };
  }
  return null;
}

// Whether trace `index` of the drawn figure can take `next` (its spec at the new step) by a repaint.
function repaintable(gd, index, next) {
  const trace = gd._fullData && gd._fullData[index];
  if (!trace || trace.type !== "heatmap" || !trace._islinear || trace.zsmooth || trace.xgap || trace.ygap) return false;
  if (trace.zauto !== false || trace.texttemplate || !Array.isArray(next.z) || !Array.isArray(next.z[0])) return false;
  const found = heatmapImage(gd, index);
  if (!found || !found.image || !/pixelated/.test(found.image.getAttribute("style") || "")) return false; // plotly's one-pixel-per-cell image
  const z = found.cd0.z;
  return Array.isArray(z) && z.length === next.z.length && z.every((row, r) => row.length === next.z[r].length);
}

const colourParser = document.createElement("canvas").getContext("2d");
function rgbaOf(colour) {
  colourParser.fillStyle = "#000";
  colourParser.fillStyle = colour;
  const parsed = colourParser.fillStyle; // "#rrggbb" or "rgba(r, g, b, a)"
  if (parsed[0] === "#") return [1, 3, 5].map((i) => parseInt(parsed.slice(i, i + 2), 16)).concat(1);
  const [r, g, b, a] = parsed.match(/[\d.]+/g).map(Number);
  return [r, g, b, a === undefined ? 1 : a];
}

// z -> [r, g, b, alpha 0-255] as plotly colours a heatmap cell (colorscale/helpers.js, heatmap/plot.js).
function cellColours(trace) {
  const stops = trace.reversescale ? trace.colorscale.map(([f, c]) => [1 - f, c]).reverse() : trace.colorscale;
  const domain = stops.map(([f]) => trace.zmin + f * (trace.zmax - trace.zmin));
  const range = stops.map(([, c]) => rgbaOf(c));
  const last = domain.length - 1;
  return (v) => {
    let i = 0;
    if (v <= domain[0]) i = 0;
    else if (v >= domain[last]) i = last - 1;
    else while (i < last - 1 && v > domain[i + 1]) i++;
    const span = domain[i + 1] - domain[i];
    const f = span > 0 ? Math.min(Math.max((v - domain[i]) / span, 0), 1) : 0;
    const a = range[i];
    const b = range[i + 1] || a;
    const mix = (k) => a[k] + (b[k] - a[k]) * f;
    return [Math.round(mix(0)), Math.round(mix(1)), Math.round(mix(2)), Math.round(mix(3) * 255)];
  };
}

// Paint trace `index` with `next`'s cells, oriented as plotly oriented it (a reversed axis flips the image).
function repaintHeatmap(gd, index, next) {
  const { cd0, image } = heatmapImage(gd, index);
  const trace = cd0.trace;
  const xa = gd._fullLayout[trace.xaxis.replace(/^x/, "xaxis")];
  const ya = gd._fullLayout[trace.yaxis.replace(/^y/, "yaxis")];
  const edge = (axis, edges, end) => axis.c2p(edges[end ? edges.length - 1 : 0]);
  const flipX = edge(xa, cd0.x, true) < edge(xa, cd0.x, false);
  const flipY = edge(ya, cd0.y, true) < edge(ya, cd0.y, false);
  const rows = next.z.length;
  const cols = next.z[0].length;
  const canvas = document.createElement("canvas");
  canvas.width = cols;
  canvas.height = rows;
  const context = canvas.getContext("2d");
  const pixels = context.createImageData(cols, rows);
  const colour = cellColours(trace);
  for (let r = 0; r < rows; r++) {
    const row = next.z[r];
    const y = flipY ? rows - 1 - r : r;
    for (let c = 0; c < cols; c++) {
      const v = row[c];
      if (v === null || v === undefined || Number.isNaN(v)) continue; // a gap: transparent, as plotly leaves it
      pixels.data.set(colour(v), (y * cols + (flipX ? cols - 1 - c : c)) * 4);
    }
  }
  context.putImageData(pixels, 0, 0);
  image.setAttributeNS(XLINK, "xlink:href", canvas.toDataURL("image/png"));
  for (const key of CELL_KEYS) {
    if (!(key in next)) continue;
    gd.data[index][key] = next[key];
    trace[key] = next[key];
    if (key in cd0) cd0[key] = next[key];
  }
}
// ------------------------------------------------------------------ curtains: what the step has not reached
// A panel's `curtains` cover parts of its figure while the step is before their `until` (a hop not computed
// yet): the figure holds every step's values and never changes there, so a step change only shows or hides
// covers. A cover has the plot's background, takes the pointer (no hover on what it hides) and lies between
// plotly's two layers: over the traces and axes, under the annotations and the hover labels.
function curtainLayer(plot) {
  const container = plot.box.querySelector(".svg-container");
  const plotLayer = container && container.querySelector("svg.main-svg");
  if (!plotLayer) return null;
  let layer = container.querySelector(":scope > .mvs-curtains");
  if (!layer) {
    layer = element("div", "mvs-curtains");
    plotLayer.after(layer);
  }
  return layer;
}

// A curtain's edge in pixels from the figure's left (horizontal) or top, for its ref.
function curtainEdge(full, ref, value, horizontal) {
  if (ref === "container") return value * (horizontal ? full.width : full.height);
  if (ref === "paper") return horizontal ? full._size.l + value * full._size.w : full._size.t + (1 - value) * full._size.h;
  const axis = full[ref.replace(/^([xy])/, "$1axis")];
  return axis._offset + axis.l2p(value);
}

function placeCurtains(plot) {
  const curtains = plot.panel.curtains;
  const full = plot.box._fullLayout;
  const layer = curtains && full ? curtainLayer(plot) : null;
  if (!layer) return;
  layer.replaceChildren();
  plot.curtains = curtains.map((c) => {
    const x = [curtainEdge(full, c.xref, c.x0, true), curtainEdge(full, c.xref, c.x1, true)].sort((a, b) => a - b);
    const y = [curtainEdge(full, c.yref, c.y0, false), curtainEdge(full, c.yref, c.y1, false)].sort((a, b) => a - b);
    const cover = element("div", "mvs-curtain");
    const top = Math.max(0, y[0]);
    Object.assign(cover.style, {
      left: `${Math.max(0, x[0])}px`,
      top: `${top}px`,
      width: `${Math.min(full.width, x[1]) - Math.max(0, x[0])}px`,
      height: `${Math.min(full.height, y[1]) - top}px`,
      background: c.xref === "container" ? full.paper_bgcolor : full.plot_bgcolor,
    });
    if (c.text) cover.textContent = c.text;
    layer.appendChild(cover);
    return { cover, until: c.until };
  });
}

function showCurtains(plot, t) {
  for (const { cover, until } of plot.curtains || []) cover.hidden = t >= until;
}

// Bring one panel to step t with the least work plotly allows: nothing when its values are the same as
// the step it shows; heatmap cells repainted and layout items relayed out when only those change (a
// cursor, a title: no axis is redrawn); else Plotly.react with the whole figure.
function showStep(state, plot, t) {
  const { box, panel } = plot;
  if (panel.figure && !plot.drawn) {
    drawFirst(state, plot, t);
    return;
  }
  if (!panel.figure) {
    box.innerHTML = panel.html[Math.min(t, panel.html.length - 1)];
  } else {
    const changed = plot.shown === null ? null : panel.figure.channels.filter((c) => !sameAt(c, plot.shown, t));
    if (!changed || changed.length > 0) {
      const spec = figureAt(panel, t);
      if (!changed && structureOf(spec) !== plot.structure) {
        drawFirst(state, plot, t); // new data of another structure: a new chart (structureOf)
        return;
      }
      const cells = changed ? changed.filter(isCellEdit) : [];
      const traces = [...new Set(cells.map((c) => c.path[1]))];
      const inPlace =
        changed &&
        changed.every((c) => isLayoutEdit(c) || isCellEdit(c)) &&
        traces.every((i) => repaintable(box, i, spec.data[i]));
      if (inPlace) {
        for (const i of traces) repaintHeatmap(box, i, spec.data[i]);
        const layout = changed.filter(isLayoutEdit);
        if (layout.length) window.Plotly.relayout(box, layoutEdits(layout, spec));
      } else {
        window.Plotly.react(box, spec.data, sized(spec.layout, plot), state.data.config || {});
        placeCurtains(plot); // the figure may have moved or been resized
      }
    }
    showCurtains(plot, t);
  }
  plot.shown = t;
  box.dataset.step = String(t);
}

function draw(state) {
  if (!state.ui.slider) return; // not built yet: the first draw comes when plotly.js and the data are ready
  const t = state.step;
  for (const plot of state.plots) {
    if ((plot.visible || !plot.panel.figure) && plot.shown !== t) showStep(state, plot, t); // HTML is cheap
  }
  const { slider, label } = state.ui;
  slider.max = String(Math.max(state.steps - 1, 0));
  slider.value = String(t);
  slider.disabled = state.steps <= 1;
  const name = state.data.labels && state.data.labels[t] ? ` · ${state.data.labels[t]}` : "";
  label.textContent = `${capitalise(state.data.unit)} ${t} of ${state.steps - 1}${name}`;
  state.root.dataset.step = String(t);
  if (state.data.url_key) writeStepToUrl(state.data.url_key, t);
}

function capitalise(text) {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

// ------------------------------------------------------------------ the player
function makeState(component, root) {
  const state = {
    root,
    ui: {},
    plots: [],
    step: 0,
    steps: 1,
    committed: null,
    playing: false,
    speed: 1,
    revision: 0,
    frame: null,
    component,
  };
  state.go = (t) => {
    const next = Math.min(Math.max(Math.round(t), 0), state.steps - 1);
    if (next === state.step) return;
    state.step = next;
    draw(state);
  };
  state.startPlay = () => {
    cancelAnimationFrame(state.frame);
    if (state.step >= state.steps - 1) state.go(0); // play from the start once at the end
    const origin = performance.now();
    const from = state.step;
    const tick = (now) => {
      // The step is a function of the time since play started: a slow frame skips ahead, the rate holds.
      const target = from + Math.floor(((now - origin) / 1000) * state.speed);
      if (target !== state.step) state.go(target);
      if (state.step >= state.steps - 1) return state.pause();
      state.frame = requestAnimationFrame(tick);
    };
    state.frame = requestAnimationFrame(tick);
  };
  state.play = () => {
    if (state.steps <= 1) return;
    state.playing = true;
    state.ui.play.textContent = "⏸";
    state.ui.play.title = "Pause (space)";
    state.root.dataset.playing = "1";
    state.startPlay();
  };
  state.pause = () => {
    state.playing = false;
    cancelAnimationFrame(state.frame);
    if (!state.ui.play) return;
    state.ui.play.textContent = "▶";
    state.ui.play.title = "Play (space)";
    state.root.dataset.playing = "0";
  };
  state.toggle = () => (state.playing ? state.pause() : state.play());
  state.commit = () => {
    // Python learns the step only when another control is about to rerun the script.
    if (state.committed !== state.step) {
      state.committed = state.step;
      state.component.setStateValue("step", state.step);
    }
  };
  return state;
}

const TYPING = "input, textarea, select, [contenteditable=''], [contenteditable='true'], [role='slider'], [role='combobox']";
const CONTROLS = `${TYPING}, button, label, [role='option'], [role='tab'], [role='radio'], [role='checkbox'], [role='switch']`;

function listen(state) {
  const onKey = (event) => {
    if (event.defaultPrevented || event.altKey || event.ctrlKey || event.metaKey) return;
    const target = event.target;
    const inside = state.root.contains(target);
    if (target && target.closest && target.closest(TYPING) && !(inside && target === state.ui.slider)) return;
    if (target && target.closest && target.closest("button") && !inside && event.key === " ") return;
    if (inside && target === state.ui.slider && (event.key === "ArrowLeft" || event.key === "ArrowRight")) return;
    if (event.key === "ArrowLeft") state.go(state.step - 1);
    else if (event.key === "ArrowRight") state.go(state.step + 1);
    else if (event.key === " " || event.key === "Spacebar") state.toggle();
    else return;
    event.preventDefault();
  };
  const onReach = (event) => {
    const target = event.target;
    if (!target || !target.closest || state.root.contains(target)) return;
    if (target.closest(CONTROLS)) state.commit();
  };
  const onHidden = () => {
    if (document.hidden && state.playing) state.pause(); // a background tab never plays on, nor floods anything
  };
  document.addEventListener("keydown", onKey);
  document.addEventListener("pointerdown", onReach, true);
  document.addEventListener("focusin", onReach, true);
  document.addEventListener("visibilitychange", onHidden);
  return () => {
    document.removeEventListener("keydown", onKey);
    document.removeEventListener("pointerdown", onReach, true);
    document.removeEventListener("focusin", onReach, true);
    document.removeEventListener("visibilitychange", onHidden);
  };
}

// ------------------------------------------------------------------ live addressing (the Playground)
// `data.live` names the sidebar sliders of beta, g, gamma and the shift, and holds the memory, key, starting
// w_prev and step count: while a slider is dragged, the five stages are recomputed here (addressing.js)
// and written into the first panel's figure, so it follows the hand; the release reruns the script once.
function knobValue(knob) {
  const input = document.querySelector(`.st-key-${knob.key} input[type="range"]`);
  if (!input || input.value === "") return knob.value;
  const raw = Number(input.value);
  return knob.options ? knob.options[Math.round(raw)] ?? knob.value : raw;
}

function liveStages(live) {
  const beta = knobValue(live.beta);
  const gate = knobValue(live.g);
  const gamma = knobValue(live.gamma);
  const rawShift = live.shift.map(knobValue);
  const stay = rawShift.map((_, k) => (k === (rawShift.length - 1) / 2 ? 1 : 0));
  const shift = asDistribution(rawShift, stay);
  let wPrev = live.w_start;
  for (let i = 0; i < live.steps; i++) wPrev = address(live.memory, live.key, beta, gate, shift, gamma, wPrev).w;
  wPrev = asDistribution(wPrev, new Array(wPrev.length).fill(1 / wPrev.length));
  return { beta, gate, gamma, shift, wPrev, stages: address(live.memory, live.key, beta, gate, shift, gamma, wPrev) };
}

const barText = (values) => values.map((v) => (Math.abs(v) >= 0.005 ? v.toFixed(2) : ""));

function liveFigure(spec, live) {
  const { beta, gate, gamma, shift, wPrev, stages } = liveStages(live);
  const values = { w_c: stages.w_c, w_g: stages.w_g, w_s: stages.w_s, w: stages.w, w_prev: wPrev };
  const data = spec.data.map((trace) => {
    if (trace.name === "s") return { ...trace, y: shift };
    const v = values[trace.name];
    if (!v) return trace;
    return { ...trace, x: v, ...(Array.isArray(trace.text) ? { text: barText(v) } : {}) };
  });
  const knobs = {
    w_c: `β = ${beta}`,
    w_g: `g = ${gate.toFixed(2)}`,
    w_s: "s above", // the kernel drawn above the panel (short_knob in memviz/figures/addressing.py)
    w: `γ = ${gamma}`,
  };
  const order = ["w_c", "w_g", "w_s", "w"];
  const annotations = spec.layout.annotations.map((a, i) => {
    const stage = order[i - 4];
    if (!stage) return a;
    const title = (/^<b>(.*?)<\/b>/.exec(a.text) || ["", ""])[1];
    return { ...a, text: `<b>${title}</b><br>${knobs[stage]}` }; // as the server titles it (stage_title)
  });
  return { data, layout: { ...spec.layout, annotations } };
}

// The knob values a live drawing used (read from the sliders) or that new data was computed with: when the
// server's data for a released slider matches what the live drawing already shows, it need not be redrawn.
function liveSignature(live, fromSliders) {
  const value = (knob) => (fromSliders ? knobValue(knob) : knob.value);
  return JSON.stringify([live.memory, live.key, live.w_start, live.steps, value(live.beta), value(live.g),
    value(live.gamma), live.shift.map(value)]);
}

function followSliders(state) {
  const sidebar = document.querySelector('[data-testid="stSidebar"]') || document.body;
  let queued = false;
  const update = () => {
    queued = false;
    const plot = state.plots[0];
    const live = state.data.live;
    if (!plot || !plot.panel.figure || !plot.drawn || !live || !window.Plotly) return;
    const shown = liveSignature(live, true);
    if (shown === state.liveShown) return; // a slider redrew itself with the values already drawn
    const spec = liveFigure(figureAt(plot.panel, 0), live);
    state.liveShown = shown;
    window.Plotly.react(plot.box, spec.data, sized(spec.layout, plot));
    plot.shown = null; // the live numbers are not step 0's: the next draw redraws in full
    state.root.dataset.live = String((Number(state.root.dataset.live) || 0) + 1);
  };
  const observer = new MutationObserver(() => {
    if (!queued) {
      queued = true;
      requestAnimationFrame(update);
    }
  });
  observer.observe(sidebar, { subtree: true, attributes: true, attributeFilter: ["aria-valuetext", "value"] });
  return () => observer.disconnect();
}

// ------------------------------------------------------------------ entry point (Streamlit calls it per data change)
export default function mount(component) {
  const { data, parentElement } = component;
  if (!data || !data.panels) return undefined;
  let state = parentElement[STATE];
  const fresh = !state;
  if (fresh) {
    const root = element("div", "mvs-root");
    root.dataset.testid = data.figure_only ? "memvizFigure" : "memvizStepper"; // one plain figure, or a player
    parentElement.appendChild(root);
    state = makeState(component, root);
    state.speed = data.speed || 1;
    state.step = data.step || 0;
    parentElement[STATE] = state;
  }
  state.component = component;
  const previous = state.data;
  state.data = data;
  state.steps = Math.max(1, data.steps);
  if (state.step > state.steps - 1) state.step = state.steps - 1;
  if (data.reset_step) state.step = Math.min(data.step || 0, state.steps - 1);
  if (fresh) state.committed = data.step;
  keepStepInUrl();
  const notice = data.notice || "";
  const wasPlaying = state.playing || state.resumePlay;
  state.resumePlay = false;
  if (state.playing) state.pause();
  Promise.all([loadPlotly(data.plotly_url), ...data.panels.map(preparePanel)])
    .then(([Plotly]) => {
      if (state.data !== data) return; // newer data arrived while this was decoding
      if (fresh || !state.ui.bar) {
        state.ui.notice = element("div", "mvs-notice");
        state.ui.bar = buildControls(state);
        state.ui.panels = element("div", "mvs-panels");
        state.root.replaceChildren(state.ui.notice, state.ui.bar, state.ui.panels);
        state.ui.bar.hidden = data.controls === false;
        watchWidth(state);
      }
      state.ui.notice.textContent = notice;
      state.ui.notice.hidden = !notice;
      const shownLive = data.live && state.liveShown === liveSignature(data.live, false);
      state.liveShown = data.live ? liveSignature(data.live, false) : null; // what the panel shows after this
      if (fresh || !previous || !samePanels(previous.panels, data.panels)) {
        buildPanels(state, Plotly);
        draw(state);
      } else {
        adoptPanels(state);
        if (!shownLive) draw(state); // else the live drawing already shows these numbers (within 1e-5)
      }
      state.root.dataset.ready = "1";
      if (wasPlaying) state.play();
    })
    .catch((error) => {
      state.root.textContent = `The step player could not start: ${error.message}`;
    });
  // Streamlit calls this function again for new data without calling the cleanup it got last time
  // (only on unmount), so the listeners of the previous call are removed here: they must never pile up.
  if (state.teardown) state.teardown();
  const controls = data.controls !== false;
  const stopKeys = controls ? listen(state) : () => {};
  const unfollow = data.live ? followSliders(state) : () => {};
  const teardown = () => {
    stopKeys();
    unfollow();
    if (state.teardown === teardown) state.teardown = null;
  };
  state.teardown = teardown;
  return () => {
    teardown();
    state.resumePlay = state.playing; // new data while playing: the next mount plays on
    if (state.playing) state.pause();
  };
}
