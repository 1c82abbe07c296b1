import type { SketchPath } from "./rough";

/** Renders rough.js path data; `currentColor` strokes follow the CSS colour. */
export function SketchPaths({ paths }: { paths: SketchPath[] }) {
  return (
    <>
      {paths.map((path, index) => (
        <path
          key={index}
          d={path.d}
          style={{ stroke: path.stroke, strokeWidth: path.strokeWidth, fill: path.fill }}
          strokeLinecap="round"
        />
      ))}
    </>
  );
}
