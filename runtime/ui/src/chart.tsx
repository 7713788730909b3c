import { useEffect, useRef } from 'preact/hooks';
import uPlot from 'uplot';
import 'uplot/dist/uPlot.min.css';

/** A uPlot time series that follows its container's width. Only the analytics chunk imports this. */

const COLORS = ['#1553d6', '#d97706', '#0f8a4f', '#b42318', '#7c3aed', '#0e7490'];

export interface Series {
  label: string;
  values: (number | null)[];
}

export function TimeChart(props: { times: number[]; series: Series[]; label: string; format?: (v: number) => string; height?: number }) {
  const box = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const el = box.current;
    if (!el || props.times.length === 0) return;
    const dark = matchMedia('(prefers-color-scheme: dark)').matches;
    const axis = { stroke: dark ? '#a7adb8' : '#4b5563', grid: { stroke: dark ? '#2e343f' : '#e5e7eb' }, ticks: { stroke: dark ? '#2e343f' : '#e5e7eb' } };
    const fmt = props.format;
    const opts: uPlot.Options = {
      width: Math.max(280, el.clientWidth),
      height: props.height ?? 220,
      scales: { x: { time: true } },
      axes: [axis, { ...axis, values: fmt ? (_u, splits) => splits.map((v) => fmt(v)) : undefined, size: 60 }],
      legend: { show: false },
      cursor: { drag: { x: false, y: false } },
      series: [
        {},
        ...props.series.map((s, i) => ({
          label: s.label,
          stroke: COLORS[i % COLORS.length],
          width: 2,
          fill: props.series.length === 1 ? `${COLORS[0]}22` : undefined,
          value: fmt ? (_u: uPlot, v: number | null) => (v === null ? '—' : fmt(v)) : undefined,
          points: { show: props.times.length < 40 },
        })),
      ],
    };
    const plot = new uPlot(opts, [props.times, ...props.series.map((s) => s.values)] as uPlot.AlignedData, el);
    const ro = new ResizeObserver(() => plot.setSize({ width: Math.max(280, el.clientWidth), height: props.height ?? 220 }));
    ro.observe(el);
    return () => {
      ro.disconnect();
      plot.destroy();
    };
  }, [props.times, props.series]);
  return (
    <>
      <div ref={box} class="chart-box" role="img" aria-label={props.label} />
      {props.series.length > 1 && (
        <div class="legend" aria-hidden="true">
          {props.series.map((s, i) => (
            <span key={s.label}>
              <span class="swatch" style={`background:${COLORS[i % COLORS.length]}`} />
              {s.label}
            </span>
          ))}
        </div>
      )}
    </>
  );
}
