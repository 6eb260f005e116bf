// A small grouped bar chart in plain SVG (no chart library): one group per label, one bar per
// series, a zero line and a few gridlines with their values. Accessible: the SVG is an image named
// by its title and summary, and the same figures are in a table screen readers read (visually
// hidden), so nothing is only in the picture.

export interface ChartSeries {
  name: string;
  /** A CSS colour (Polaris tokens work: `var(--p-color-…)`). */
  color: string;
}

export interface ChartGroup {
  /** Shown under the group, e.g. "Nov 2026". */
  label: string;
  /** One value per series, in series order. */
  values: number[];
}

const WIDTH = 720;
const HEIGHT = 240;
const PAD = { top: 12, right: 8, bottom: 28, left: 64 };

/** A round step for gridlines: 1, 2 or 5 × 10^n, about four of them up to `max`. */
export function niceStep(max: number): number {
  if (max <= 0) return 1;
  const raw = max / 4;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= raw)!;
  return Math.max(1, step);
}

export function BarChart({
  title,
  summary,
  series,
  groups,
  format,
  groupHeading = 'Month',
}: {
  title: string;
  /** What the groups are, as the accessible table's first column heading. */
  groupHeading?: string;
  /** One sentence saying what the chart shows (the image's description). */
  summary: string;
  series: ChartSeries[];
  groups: ChartGroup[];
  format: (value: number) => string;
}) {
  const max = Math.max(0, ...groups.flatMap((g) => g.values));
  const min = Math.min(0, ...groups.flatMap((g) => g.values));
  const step = niceStep(Math.max(max, -min));
  const top = Math.max(step, Math.ceil(max / step) * step);
  const bottom = Math.floor(min / step) * step;
  const plotW = WIDTH - PAD.left - PAD.right;
  const plotH = HEIGHT - PAD.top - PAD.bottom;
  const y = (v: number) => PAD.top + ((top - v) / (top - bottom)) * plotH;
  const groupW = plotW / Math.max(1, groups.length);
  const barW = Math.max(2, (groupW * 0.7) / Math.max(1, series.length));
  const ticks: number[] = [];
  for (let v = bottom; v <= top; v += step) ticks.push(v);
  const id = title.toLowerCase().replace(/[^a-z0-9]+/g, '-');

  return (
    <figure style={{ margin: 0 }}>
      <svg
        viewBox={`0 0 ${WIDTH} ${HEIGHT}`}
        width="100%"
        role="img"
        aria-labelledby={`${id}-title ${id}-desc`}
        style={{ display: 'block', maxHeight: 280 }}
      >
        <title id={`${id}-title`}>{title}</title>
        <desc id={`${id}-desc`}>{summary}</desc>
        {ticks.map((v) => (
          <g key={v}>
            <line
              x1={PAD.left}
              x2={WIDTH - PAD.right}
              y1={y(v)}
              y2={y(v)}
              stroke={v === 0 ? '#8a8a8a' : '#e3e3e3'}
              strokeWidth={1}
            />
            <text x={PAD.left - 6} y={y(v) + 4} textAnchor="end" fontSize={11} fill="#616161">
              {format(v)}
            </text>
          </g>
        ))}
        {groups.map((group, g) => {
          const x0 = PAD.left + g * groupW + (groupW - barW * series.length) / 2;
          return (
            <g key={group.label}>
              {group.values.map((v, s) => (
                <rect
                  key={series[s]!.name}
                  x={x0 + s * barW}
                  y={Math.min(y(v), y(0))}
                  width={barW - 1}
                  height={Math.abs(y(v) - y(0))}
                  fill={series[s]!.color}
                >
                  <title>{`${group.label} · ${series[s]!.name}: ${format(v)}`}</title>
                </rect>
              ))}
              <text
                x={PAD.left + g * groupW + groupW / 2}
                y={HEIGHT - 8}
                textAnchor="middle"
                fontSize={11}
                fill="#616161"
              >
                {group.label}
              </text>
            </g>
          );
        })}
      </svg>
      <figcaption style={{ display: 'flex', gap: 16, fontSize: 12, marginTop: 4 }}>
        {series.map((s) => (
          <span key={s.name} style={{ display: 'inline-flex', alignItems: 'center', gap: 6 }}>
            <span
              aria-hidden="true"
              style={{ width: 10, height: 10, background: s.color, display: 'inline-block' }}
            />
            {s.name}
          </span>
        ))}
      </figcaption>
      <table
        style={{
          position: 'absolute',
          width: 1,
          height: 1,
          overflow: 'hidden',
          clip: 'rect(0 0 0 0)',
          whiteSpace: 'nowrap',
        }}
      >
        <caption>{title}</caption>
        <thead>
          <tr>
            <th scope="col">{groupHeading}</th>
            {series.map((s) => (
              <th key={s.name} scope="col">
                {s.name}
              </th>
            ))}
          </tr>
        </thead>
        <tbody>
          {groups.map((group) => (
            <tr key={group.label}>
              <th scope="row">{group.label}</th>
              {group.values.map((v, s) => (
                <td key={series[s]!.name}>{format(v)}</td>
              ))}
            </tr>
          ))}
        </tbody>
      </table>
    </figure>
  );
}
