// Multi-series time chart for stored history (uPlot, global `uPlot`), used by the Monitoring page.
//
// Contract:
// - props {title, axisTitle, testid, kind, unitLabel?, points?, height?}. `kind` picks the unit of the y axis:
//   "percent" (fixed 0..100 %), "bytes" (KiB / MiB / GiB by the largest value), "ms" (ms, or s when
//   the largest value reaches 2 s), "count" (props.unitLabel, e.g. "requests / 1 min"), "rate" (tok/s).
// - setData(timestampsMs, series, {from, to, rangeText}) draws `series` ([{label, color, values}],
//   values aligned with the timestamps, null = no value) over the x range from..to (ms). The plot is
//   updated in place with setData; it is rebuilt only when the set of series (labels, colors) or
//   the y unit changes. `points` draws every point (for series with gaps); the legend shows the
//   hovered values, or each series' latest one.
// - The root is role="img" with an aria-label summary of what is drawn (per series: latest, average
//   and peak, or the total for counts), and data-points / data-series attributes for tests.
// - Width follows the container; axis and grid colors follow the theme's CSS variables.
import { Component, h } from "../core/component.js";
import { DASH } from "../core/format.js";

const HEIGHT = 200;
const TIME_STEPS_S = [
  1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 10800, 21600, 43200, 86400, 172800,
];
const KIB = 1024;
const isNum = (v) => typeof v === "number" && Number.isFinite(v);
const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();
const pad = (n) => String(n).padStart(2, "0");
const WEEKDAYS = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"];

/** The y unit for `kind` given the largest value: {unit, div, digits}. */
export function unitFor(kind, max, unitLabel) {
  switch (kind) {
    case "percent":
      return { unit: "%", div: 1, digits: 1 };
    case "bytes":
      if (max >= KIB ** 3) return { unit: "GiB", div: KIB ** 3, digits: 2 };
      if (max >= KIB ** 2) return { unit: "MiB", div: KIB ** 2, digits: 1 };
      return { unit: "KiB", div: KIB, digits: 1 };
    case "ms":
      return max >= 2000 ? { unit: "s", div: 1000, digits: 2 } : { unit: "ms", div: 1, digits: 0 };
    case "rate":
      return { unit: "tok/s", div: 1, digits: 1 };
    default:
      return { unit: unitLabel || "", div: 1, digits: 0 };
  }
}

/** Tick label for a time in seconds, by the tick step and the span shown. */
function timeTick(t, incr, spanS) {
  const d = new Date(t * 1000);
  const hm = `${pad(d.getHours())}:${pad(d.getMinutes())}`;
  if (incr >= 86400) return `${WEEKDAYS[d.getDay()]} ${d.getDate()}`;
  if (spanS > 1.5 * 86400) return `${WEEKDAYS[d.getDay()]} ${hm}`;
  if (incr < 60) return `${hm}:${pad(d.getSeconds())}`;
  return hm;
}

/** Legend / summary time: clock time, with the weekday and date beyond a day. */
function timeLabel(ms, spanS) {
  if (!isNum(ms)) return DASH;
  const d = new Date(ms);
  const hms = `${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
  return spanS > 86400 ? `${WEEKDAYS[d.getDay()]} ${pad(d.getMonth() + 1)}-${pad(d.getDate())} ${hms}` : hms;
}

export class HistoryChart extends Component {
  render() {
    return h("div", {
      class: "chart history-chart",
      "data-testid": this.props.testid,
      role: "img",
      "aria-label": `${this.props.title}: no data yet`,
      "data-points": "0",
      "data-series": "",
    });
  }

  onMount() {
    this.x = [];
    this.series = [];
    this.from = null;
    this.to = null;
    this.unit = unitFor(this.props.kind, 0, this.props.unitLabel);
    this.key = null;
    this.plot = null;
    this._build();
    const resize = new ResizeObserver(() => this._scheduleResize());
    resize.observe(this.el);
    this.own(() => resize.disconnect());
    const theme = new MutationObserver(() => this.plot?.redraw(false, true));
    theme.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    this.own(() => theme.disconnect());
    this.own(() => cancelAnimationFrame(this.frame));
    this.own(() => this.plot?.destroy());
  }

  /** Count charts: the unit shown on the axis ("requests / 15 min"); applies from the next setData. */
  setUnitLabel(unitLabel) {
    this.props.unitLabel = unitLabel;
  }

  setData(timestampsMs, series, { from, to, rangeText = "" } = {}) {
    this.x = timestampsMs.map((t) => t / 1000);
    this.series = series;
    this.from = isNum(from) ? from / 1000 : null;
    this.to = isNum(to) ? to / 1000 : null;
    let max = 0;
    for (const s of series) for (const v of s.values) if (isNum(v) && v > max) max = v;
    this.unit = unitFor(this.props.kind, max, this.props.unitLabel);
    const key = JSON.stringify([series.map((s) => [s.label, s.color]), this.unit.unit]);
    const data = [this.x, ...series.map((s) => s.values.map((v) => (isNum(v) ? v / this.unit.div : null)))];
    if (key !== this.key) {
      this.key = key;
      this._build(data);
    } else {
      this.plot.setData(data);
    }
    this.el.dataset.points = String(this.x.length);
    this.el.dataset.series = series.map((s) => s.label).join("\n");
    this.el.setAttribute("aria-label", this._summary(rangeText));
  }

  _summary(rangeText) {
    const { title, kind } = this.props;
    const head = rangeText ? `${title}, ${rangeText}` : title;
    const withValues = this.series.filter((s) => s.values.some(isNum));
    if (!this.x.length || !withValues.length) return `${head}: no data`;
    const fmt = (v) => this._format(v / this.unit.div);
    const parts = withValues.map((s) => {
      const values = s.values.filter(isNum);
      const peak = Math.max(...values);
      if (kind === "count") return `${s.label} ${values.reduce((a, b) => a + b, 0)} in total, peak ${fmt(peak)}`;
      const latest = values.at(-1);
      const avg = values.reduce((a, b) => a + b, 0) / values.length;
      return `${s.label} latest ${fmt(latest)}, average ${fmt(avg)}, peak ${fmt(peak)}`;
    });
    return `${head}: ${parts.join("; ")}`;
  }

  _format(v) {
    if (!isNum(v)) return DASH;
    const { unit, digits } = this.unit;
    const text = v.toFixed(digits);
    return unit === "%" ? `${text} %` : `${text} ${unit}`;
  }

  /** Legend time while the cursor is off the plot: the newest point's, when every series' latest value is there. */
  _latestTime(u) {
    const last = u.data[0].length - 1;
    if (last < 0) return DASH;
    const atEnd = u.data.slice(1).every((d) => d[last] != null || lastValue(d) == null);
    return atEnd ? timeLabel(u.data[0][last] * 1000, (this.to ?? 0) - (this.from ?? 0)) : "latest";
  }

  _build(data) {
    this.plot?.destroy();
    const empty = [this.x, ...this.series.map(() => [])];
    this.plot = new window.uPlot(this._options(), data || empty, this.el);
    this.width = this.plot.width;
  }

  _scheduleResize() {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => {
      const width = Math.floor(this.el.clientWidth);
      if (width > 0 && width !== this.width) {
        this.width = width;
        this.plot.setSize({ width, height: this.props.height || HEIGHT });
      }
    });
  }

  _options() {
    const axisColor = () => cssVar("--text-muted");
    const gridColor = () => cssVar("--grid");
    const axis = {
      stroke: axisColor,
      grid: { stroke: gridColor, width: 1 },
      ticks: { stroke: gridColor, width: 1 },
    };
    const span = () => (this.to ?? 0) - (this.from ?? 0);
    const yLabel = this.unit.unit ? `${this.props.axisTitle || this.props.title} (${this.unit.unit})` : this.props.axisTitle;
    const percent = this.props.kind === "percent";
    const integer = this.props.kind === "count";
    return {
      width: Math.max(200, Math.floor(this.el.clientWidth)),
      height: this.props.height || HEIGHT,
      scales: {
        x: {
          time: true,
          range: (u, min, max) => [this.from ?? min ?? 0, this.to ?? max ?? 1],
        },
        y: {
          range: percent
            ? [0, 100]
            : (u, min, max) => [0, isNum(max) && max > 0 ? max * 1.1 : integer ? 4 : 1],
        },
      },
      cursor: { drag: { x: false, y: false } },
      legend: { live: true },
      series: [
        { value: (u, v, si, idx) => (idx == null ? this._latestTime(u) : timeLabel(isNum(v) ? v * 1000 : null, span())) },
        ...this.series.map((s) => ({
          label: s.label,
          stroke: s.color,
          width: 2,
          spanGaps: false,
          points: this.props.points ? { show: true, size: 6, fill: s.color } : { size: 5, fill: s.color },
          value: (u, v, si, idx) => this._format(idx == null ? lastValue(u.data[si]) : v),
        })),
      ],
      axes: [
        {
          ...axis,
          space: 70,
          incrs: TIME_STEPS_S,
          values: (u, ticks, axisIdx, space, incr) => ticks.map((t) => timeTick(t, incr, span())),
        },
        {
          ...axis,
          size: 56,
          label: yLabel,
          labelSize: 20,
          labelFont: "600 12px system-ui, sans-serif",
          incrs: integer ? [1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000] : undefined,
          values: (u, ticks) => ticks.map((t) => (percent ? `${t}%` : formatTick(t))),
        },
      ],
    };
  }
}

/** The newest non-null value of a data array, or null. */
function lastValue(values) {
  for (let i = values.length - 1; i >= 0; i -= 1) if (values[i] != null) return values[i];
  return null;
}

/** Tick numbers: no needless decimals, "1.2k" past a thousand. */
function formatTick(t) {
  if (Math.abs(t) >= 1000) return `${+(t / 1000).toFixed(1)}k`;
  return String(+t.toFixed(2));
}
