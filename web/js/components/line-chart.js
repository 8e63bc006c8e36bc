// Live percentage line chart (uPlot, global `uPlot`).
//
// Contract: props {label, color, testid}; setData(timestampsMs, values) redraws the existing
// plot in place (never rebuilds DOM). Width follows the container; colors follow the theme's
// CSS variables. Values are percentages on a fixed 0..100 axis; the legend shows the
// hovered point, or the latest one.
import { Component, h } from "../core/component.js";
import { formatPercent, formatTime } from "../core/format.js";

const HEIGHT = 220;
/** X-axis tick steps in seconds: whole seconds and up, so labels are plain clock times. */
const TIME_STEPS_S = [1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600, 7200, 14400, 43200, 86400];

/** Legend value: the hovered point, or the latest one while the cursor is elsewhere. */
const pick = (u, series, value, idx) => (idx == null ? u.data[series].at(-1) : value);

const cssVar = (name) => getComputedStyle(document.documentElement).getPropertyValue(name).trim();

export class LineChart extends Component {
  render() {
    return h("div", { class: "chart", "data-testid": this.props.testid, role: "img", "aria-label": this.props.label });
  }

  onMount() {
    this.plot = new window.uPlot(this._options(), [[], []], this.el);
    this.width = this.plot.width;
    const resize = new ResizeObserver(() => this._scheduleResize());
    resize.observe(this.el);
    this.own(() => resize.disconnect());
    const theme = new MutationObserver(() => this.plot.redraw(false, true));
    theme.observe(document.documentElement, { attributes: true, attributeFilter: ["data-theme"] });
    this.own(() => theme.disconnect());
    this.own(() => cancelAnimationFrame(this.frame));
    this.own(() => this.plot.destroy());
  }

  setData(timestampsMs, values) {
    this.plot.setData([timestampsMs.map((t) => t / 1000), values]);
  }

  _scheduleResize() {
    cancelAnimationFrame(this.frame);
    this.frame = requestAnimationFrame(() => {
      const width = Math.floor(this.el.clientWidth);
      if (width > 0 && width !== this.width) {
        this.width = width;
        this.plot.setSize({ width, height: HEIGHT });
      }
    });
  }

  _options() {
    const axisColor = () => cssVar("--text-muted");
    const gridColor = () => cssVar("--grid");
    const axis = { stroke: axisColor, grid: { stroke: gridColor, width: 1 }, ticks: { stroke: gridColor, width: 1 } };
    return {
      width: Math.max(200, Math.floor(this.el.clientWidth)),
      height: HEIGHT,
      scales: { x: { time: true }, y: { range: [0, 100] } },
      cursor: { drag: { x: false, y: false } },
      series: [
        { value: (u, v, si, idx) => formatTime(pick(u, 0, v, idx) * 1000) },
        {
          label: this.props.label,
          stroke: this.props.color,
          fill: `${this.props.color}26`,
          width: 2,
          points: { show: false },
          value: (u, v, si, idx) => formatPercent(pick(u, 1, v, idx)),
        },
      ],
      axes: [
        { ...axis, space: 80, incrs: TIME_STEPS_S, values: (u, ticks) => ticks.map((t) => formatTime(t * 1000)) },
        { ...axis, size: 48, values: (u, ticks) => ticks.map((t) => `${t}%`) },
      ],
    };
  }
}
