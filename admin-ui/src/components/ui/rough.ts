/**
 * rough.js, used only for decoration (heading underlines, empty-state
 * sketches, chart bars), through its generator: shapes become SVG path data
 * rendered by React, so server and client draw alike. The seed comes from a
 * stable element id; the style's settings are roughness 1, bowing 1, stroke
 * width 2 and a hachure gap of 8.
 */
import rough from "roughjs";
import type { Options } from "roughjs/bin/core";

const generator = rough.generator();

/** A 31-bit seed from a stable id (FNV-1a). */
export function seedFrom(id: string): number {
  let hash = 0x811c9dc5;
  for (let index = 0; index < id.length; index++) {
    hash ^= id.charCodeAt(index);
    hash = Math.imul(hash, 0x01000193);
  }
  return (hash >>> 1) || 1;
}

export interface SketchPath {
  d: string;
  stroke: string;
  strokeWidth: number;
  fill: string;
}

function baseOptions(id: string, options: Options): Options {
  return {
    roughness: 1,
    bowing: 1,
    strokeWidth: 2,
    hachureGap: 8,
    seed: seedFrom(id),
    ...options,
  };
}

function toSketch(drawable: ReturnType<typeof generator.rectangle>): SketchPath[] {
  return generator.toPaths(drawable).map((path) => ({
    d: path.d,
    stroke: path.stroke,
    strokeWidth: path.strokeWidth,
    fill: path.fill ?? "none",
  }));
}

export function sketchRectangle(id: string, x: number, y: number, width: number, height: number, options: Options = {}) {
  return toSketch(generator.rectangle(x, y, width, height, baseOptions(id, options)));
}

export function sketchLine(id: string, x1: number, y1: number, x2: number, y2: number, options: Options = {}) {
  return toSketch(generator.line(x1, y1, x2, y2, baseOptions(id, options)));
}

export function sketchEllipse(id: string, x: number, y: number, width: number, height: number, options: Options = {}) {
  return toSketch(generator.ellipse(x, y, width, height, baseOptions(id, options)));
}

export function sketchCurve(id: string, points: Array<[number, number]>, options: Options = {}) {
  return toSketch(generator.curve(points, baseOptions(id, options)));
}
