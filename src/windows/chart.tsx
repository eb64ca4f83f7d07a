import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

export interface ChartSeries {
  label: string;
  values: number[];
}

/** Distinct in light and dark; the first is the accent colour. */
export const PALETTE = ['#0a84ff', '#30b158', '#ff9f0a', '#bf5af2', '#ff375f', '#64d2ff'];

const css = (name: string) => getComputedStyle(document.documentElement).getPropertyValue(name).trim() || '#888';

/** 1, 2, 5, 10, 20, 50 … — whole steps for series that count things; money steps down to a cent. */
const WHOLE_STEPS = Array.from({ length: 30 }, (_, i) => [1, 2, 5][i % 3]! * 10 ** Math.floor(i / 3));
const CENT_STEPS = [0.01, 0.02, 0.05, 0.1, 0.2, 0.5, ...WHOLE_STEPS];

/** A small uPlot line chart over time (`times` in ms); rebuilt when the series change, resized with its box. */
export function Chart(props: { title: string; times: number[]; series: ChartSeries[]; height?: number; money?: boolean; format?(n: number): string; time(at: number): string }) {
  const box = useRef<HTMLDivElement>(null);
  // The axis labels read the newest formatters (language may change) without rebuilding the chart.
  const labels = useRef(props);
  labels.current = props;
  useEffect(() => {
    const el = box.current;
    if (!el) return;
    const axis = { stroke: css('--fg-2'), grid: { stroke: css('--line'), width: 1 }, ticks: { show: false }, font: '10px system-ui, sans-serif' };
    const format = (n: number) => (labels.current.format ?? String)(n);
    const plot = new uPlot(
      {
        width: el.clientWidth || 340,
        height: props.height ?? 100,
        legend: { show: props.series.length > 1, live: false },
        cursor: { drag: { x: false, y: false }, points: { size: 5 } },
        scales: { x: { time: true }, y: { range: (_u, _min, max) => [0, Math.max(props.money ? 0.01 : 1, max)] } },
        axes: [
          { ...axis, size: 22, space: 64, values: (_u, ticks) => ticks.map((t) => labels.current.time(t * 1000)) },
          { ...axis, size: props.money ? 44 : 36, space: 24, incrs: props.money ? CENT_STEPS : WHOLE_STEPS, values: (_u, ticks) => ticks.map(format) },
        ],
        series: [{}, ...props.series.map((s, i) => ({ label: s.label, stroke: PALETTE[i % PALETTE.length], width: 1.5, points: { show: false }, fill: props.series.length === 1 ? `${PALETTE[0]}22` : undefined }))],
      },
      [props.times.map((t) => t / 1000), ...props.series.map((s) => s.values)],
      el,
    );
    const resize = new ResizeObserver(() => plot.setSize({ width: el.clientWidth || 340, height: props.height ?? 100 }));
    resize.observe(el);
    return () => {
      resize.disconnect();
      plot.destroy();
    };
  }, [props.times, props.series, props.height, props.money]);
  return (
    <figure class="chart" aria-label={props.title}>
      <figcaption>{props.title}</figcaption>
      <div ref={box} class="chart-box" />
    </figure>
  );
}
