#!/usr/bin/env python3
"""Draws scripts/scale.sh's measurements as an SVG line chart: API time
(ms, log scale) against the number of stored messages (log scale), one
colour per engine and one line style per request. No dependencies.

usage: scale-chart.py ROWS.tsv OUT.svg
"""

import math
import sys

WIDTH, HEIGHT = 720, 420
LEFT, RIGHT, TOP, BOTTOM = 70, 190, 30, 50
COLOURS = {"memory": "#2b6cb0", "sqlite": "#c05621", "postgres": "#2f855a"}
REQUESTS = [  # (column in the rows, label, dash pattern)
    (5, "list newest 50", ""),
    (6, "search, present term", "6 3"),
    (7, "search, absent term", "2 3"),
]


def read_rows(path):
    series = {}
    with open(path) as rows:
        for line in rows:
            cells = line.rstrip("\n").split("\t")
            if cells[1] == "delete-all":
                continue
            series.setdefault(cells[0], []).append(cells)
    return series


def log_scale(value, low, high, start, end):
    span = math.log10(high) - math.log10(low)
    return start + (math.log10(value) - math.log10(low)) / span * (end - start)


def chart(series):
    sizes = sorted({int(c[1]) for rows in series.values() for c in rows})
    times = [float(c[col]) for rows in series.values() for c in rows for col, _, _ in REQUESTS]
    times = [t for t in times if t > 0] or [1.0]
    x_low, x_high = sizes[0], max(sizes[-1], sizes[0] * 10)
    y_low = 10 ** math.floor(math.log10(min(times)))
    y_high = 10 ** math.ceil(math.log10(max(times)))
    if y_high <= y_low:
        y_high = y_low * 10
    x = lambda v: log_scale(v, x_low, x_high, LEFT, WIDTH - RIGHT)
    y = lambda v: log_scale(max(v, y_low), y_low, y_high, HEIGHT - BOTTOM, TOP)

    out = [
        f'<svg xmlns="http://www.w3.org/2000/svg" width="{WIDTH}" height="{HEIGHT}" '
        f'viewBox="0 0 {WIDTH} {HEIGHT}" font-family="sans-serif" font-size="12">',
        f'<rect width="{WIDTH}" height="{HEIGHT}" fill="white"/>',
        f'<text x="{LEFT}" y="18" font-weight="bold">API time against stored 2 KB messages (log-log)</text>',
    ]
    decade = y_low
    while decade <= y_high:
        out.append(f'<line x1="{LEFT}" x2="{WIDTH - RIGHT}" y1="{y(decade):.1f}" y2="{y(decade):.1f}" stroke="#ddd"/>')
        out.append(f'<text x="{LEFT - 6}" y="{y(decade) + 4:.1f}" text-anchor="end">{decade:g} ms</text>')
        decade *= 10
    for size in sizes:
        out.append(f'<line x1="{x(size):.1f}" x2="{x(size):.1f}" y1="{TOP}" y2="{HEIGHT - BOTTOM}" stroke="#eee"/>')
        out.append(f'<text x="{x(size):.1f}" y="{HEIGHT - BOTTOM + 16}" text-anchor="middle">{size:,}</text>')
    out.append(f'<text x="{(LEFT + WIDTH - RIGHT) / 2}" y="{HEIGHT - 12}" text-anchor="middle">messages stored</text>')

    legend_y = TOP + 10
    for engine, rows in series.items():
        colour = COLOURS.get(engine, "#555")
        for column, label, dash in REQUESTS:
            points = " ".join(f"{x(int(c[1])):.1f},{y(float(c[column])):.1f}" for c in rows)
            out.append(
                f'<polyline points="{points}" fill="none" stroke="{colour}" stroke-width="2" '
                f'stroke-dasharray="{dash}"/>'
            )
            legend_x = WIDTH - RIGHT + 14
            out.append(
                f'<line x1="{legend_x}" x2="{legend_x + 24}" y1="{legend_y}" y2="{legend_y}" '
                f'stroke="{colour}" stroke-width="2" stroke-dasharray="{dash}"/>'
            )
            out.append(f'<text x="{legend_x + 30}" y="{legend_y + 4}">{engine}: {label}</text>')
            legend_y += 18
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    rows, target = sys.argv[1], sys.argv[2]
    with open(target, "w") as svg:
        svg.write(chart(read_rows(rows)))


if __name__ == "__main__":
    main()
