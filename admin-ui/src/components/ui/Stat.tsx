/** A number in the display face with its label. */
export function Stat({ value, label, extra }: { value: React.ReactNode; label: string; extra?: React.ReactNode }) {
  return (
    <div className="ns-stat">
      <span className="ns-stat__value">{value}</span>
      <span className="ns-stat__label">{label}</span>
      {extra}
    </div>
  );
}
