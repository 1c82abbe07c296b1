import { SketchPaths } from "./Sketch";
import { sketchCurve } from "./rough";

/** A hand-drawn stroke under a page heading (decoration, hidden from assistive technology). */
export function HeadingUnderline({ id }: { id: string }) {
  const paths = sketchCurve(`underline:${id}`, [[2, 6], [60, 3], [120, 7], [180, 4], [218, 6]], {
    stroke: "currentColor",
    strokeWidth: 3,
    roughness: 1.2,
  });
  return (
    <svg className="ns-rough ns-heading-underline" viewBox="0 0 220 10" preserveAspectRatio="none" aria-hidden="true">
      <SketchPaths paths={paths} />
    </svg>
  );
}
