"use client";
import { useEffect, useRef, useState } from "react";
import { SketchPaths } from "./Sketch";
import { sketchLine, sketchRectangle } from "./rough";

export interface BarDatum {
  /** ISO time or any key; unique. */
  key: string;
  /** The axis label (shown for some bars only). */
  label: string;
  inbound: number;
  outbound: number;
}

export interface BarChartProps {
  id: string;
  title: string;
  data: BarDatum[];
  /** Show an axis label every n bars. */
  labelEvery?: number;
}

/** The width drawn before the figure is measured (and in tests). */
const DEFAULT_WIDTH = 720;
const HEIGHT = 220;
const LEFT = 36;
const BOTTOM = 24;
const TOP = 10;

/** Rounds the scale's top up to 1, 2 or 5 times a power of ten. */
export function niceMax(value: number): number {
  if (value <= 0) return 4;
  const power = 10 ** Math.floor(Math.log10(value));
  for (const step of [1, 2, 5, 10]) {
    if (value <= step * power) return step * power;
  }
  return 10 * power;
}

/**
 * Grouped bars sketched with rough.js: inbound hatched, outbound solid (so the
 * two differ by pattern, not colour alone), with the numbers in a table for
 * screen readers and anyone who prefers them.
 */
export function BarChart({ id, title, data, labelEvery = 6 }: BarChartProps) {
  // The drawing is as wide as its figure, so labels keep their size on a phone.
  const figure = useRef<HTMLElement>(null);
  const [WIDTH, setWidth] = useState(DEFAULT_WIDTH);
  useEffect(() => {
    const element = figure.current;
    if (element === null || typeof ResizeObserver === "undefined") return;
    const observer = new ResizeObserver(([entry]) => {
      const width = Math.round(entry?.contentRect.width ?? 0);
      if (width > 0) setWidth(width);
    });
    observer.observe(element);
    return () => observer.disconnect();
  }, []);
  const max = niceMax(Math.max(0, ...data.map((datum) => Math.max(datum.inbound, datum.outbound))));
  const plotWidth = WIDTH - LEFT - 8;
  const plotHeight = HEIGHT - TOP - BOTTOM;
  const slot = data.length > 0 ? plotWidth / data.length : plotWidth;
  const barWidth = Math.max(2, (slot - 6) / 2);
  const y = (value: number) => TOP + plotHeight - (value / max) * plotHeight;
  const gridValues = Number.isInteger(max / 2) ? [0, max / 2, max] : [0, max];
  const total = data.reduce((sum, datum) => sum + datum.inbound + datum.outbound, 0);
  return (
    <figure className="ns-chart" aria-labelledby={`${id}-caption`} ref={figure}>
      <svg viewBox={`0 0 ${WIDTH} ${HEIGHT}`} role="img" aria-labelledby={`${id}-caption`}>
        {gridValues.map((value) => (
          <g key={value}>
            <line className="ns-chart__grid" x1={LEFT} x2={WIDTH - 8} y1={y(value)} y2={y(value)} />
            <text className="ns-chart__axis" x={LEFT - 6} y={y(value) + 4} textAnchor="end">{value}</text>
          </g>
        ))}
        {data.map((datum, index) => {
          const x = LEFT + index * slot + 3;
          const paths = [];
          if (datum.inbound > 0) {
            paths.push(
              ...sketchRectangle(`${id}:in:${datum.key}`, x, y(datum.inbound), barWidth, y(0) - y(datum.inbound), {
                stroke: "var(--ns-chart-stroke)",
                strokeWidth: 1.5,
                fill: "var(--ns-chart-inbound)",
                fillStyle: "hachure",
                hachureGap: 4,
                fillWeight: 1.5,
                roughness: 0.8,
              }),
            );
          }
          if (datum.outbound > 0) {
            paths.push(
              ...sketchRectangle(`${id}:out:${datum.key}`, x + barWidth, y(datum.outbound), barWidth, y(0) - y(datum.outbound), {
                stroke: "var(--ns-chart-stroke)",
                strokeWidth: 1.5,
                fill: "var(--ns-chart-outbound)",
                fillStyle: "solid",
                roughness: 0.8,
              }),
            );
          }
          return (
            <g key={datum.key}>
              <SketchPaths paths={paths} />
              {index % labelEvery === 0
                ? <text className="ns-chart__axis" x={x + barWidth} y={HEIGHT - 6} textAnchor="middle">{datum.label}</text>
                : null}
            </g>
          );
        })}
        <SketchPaths
          paths={sketchLine(`${id}:axis`, LEFT, y(0), WIDTH - 8, y(0), { stroke: "var(--ns-chart-stroke)", strokeWidth: 2 })}
        />
      </svg>
      <figcaption id={`${id}-caption`} className="ns-visually-hidden">
        {title}: {total} messages in all.
      </figcaption>
      <div className="ns-chart__legend" aria-hidden="true">
        <span className="ns-chart__key"><span className="ns-chart__swatch ns-chart__swatch--inbound" /> Inbound (hatched)</span>
        <span className="ns-chart__key"><span className="ns-chart__swatch ns-chart__swatch--outbound" /> Outbound (solid)</span>
      </div>
      <details>
        <summary>Show the numbers</summary>
        <div className="ns-table-wrap" role="region" aria-label={`${title} as a table`} tabIndex={0}>
          <table className="ns-table">
            <caption className="ns-visually-hidden">{title}</caption>
            <thead>
              <tr>
                <th scope="col">Hour</th>
                <th scope="col">Inbound</th>
                <th scope="col">Outbound</th>
              </tr>
            </thead>
            <tbody>
              {data.map((datum) => (
                <tr key={datum.key}>
                  <th scope="row">{datum.label}</th>
                  <td>{datum.inbound}</td>
                  <td>{datum.outbound}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      </details>
    </figure>
  );
}
