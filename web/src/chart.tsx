import { useEffect, useRef } from "react";
import uPlot from "uplot";
import "uplot/dist/uPlot.min.css";

export interface Series {
  label: string;
  values: (number | null)[];
  stroke: string;
}

/** A uPlot line chart over days (x in Unix seconds), redrawn when its data changes. */
export function DailyChart({ title, days, series, unit }: { title: string; days: number[]; series: Series[]; unit: string }) {
  const container = useRef<HTMLDivElement>(null);
  useEffect(() => {
    const element = container.current;
    if (!element) return;
    const plot = new uPlot(
      {
        title,
        width: Math.max(320, element.clientWidth || 640),
        height: 220,
        scales: { x: { time: true } },
        axes: [{}, { label: unit }],
        series: [{}, ...series.map((s) => ({ label: s.label, stroke: s.stroke, width: 2, spanGaps: true, points: { show: true } }))],
      },
      [days, ...series.map((s) => s.values)] as uPlot.AlignedData,
      element,
    );
    return () => {
      plot.destroy();
    };
  }, [title, days, series, unit]);
  return (
    <figure className="chart">
      <div ref={container} role="img" aria-label={`${title} chart`} />
      <figcaption className="visually-hidden">{title}</figcaption>
    </figure>
  );
}
