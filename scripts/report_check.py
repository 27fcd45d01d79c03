#!/usr/bin/env python3
"""Checks of a `repro report` page as Chromium rendered it (scripts/report_check.sh calls this).

  report_check.py png FILE.png BG_HEX [COLOUR_HEX...]   the picture: not blank, page background
                                                        BG_HEX at the top left, each COLOUR_HEX
                                                        drawn on some pixels
  report_check.py dom FILE.html RUN_A RUN_B             the rendered DOM: charts, curves, dashed
                                                        validation, legends, marker, run.json rows

Decodes PNG with zlib alone (no imaging library): 8-bit RGB or RGBA, not interlaced, which is what
Chromium's screenshots are. Exits 1 with a line saying what is wrong.
"""
import re
import struct
import sys
import zlib


def fail(message):
    print(f"report_check: FAILED: {message}", file=sys.stderr)
    sys.exit(1)


def read_png(path):
    """(width, height, channels, rows): rows are bytearrays of width * channels bytes."""
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        fail(f"{path}: not a PNG file")
    pos, idat, header = 8, [], None
    while pos < len(data):
        length, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + length]
        if kind == b"IHDR":
            header = struct.unpack(">IIBBBBB", body)
        elif kind == b"IDAT":
            idat.append(body)
        elif kind == b"IEND":
            break
        pos += 12 + length
    if header is None:
        fail(f"{path}: no IHDR chunk")
    width, height, depth, colour, _, _, interlace = header
    channels = {2: 3, 6: 4}.get(colour)
    if depth != 8 or channels is None or interlace != 0:
        fail(f"{path}: PNG depth {depth}, colour type {colour}, interlace {interlace}: "
             "only 8-bit RGB/RGBA without interlace is read here")
    raw = zlib.decompress(b"".join(idat))
    stride = width * channels
    rows, previous = [], bytearray(stride)
    for y in range(height):
        start = y * (stride + 1)
        kind, line = raw[start], bytearray(raw[start + 1:start + 1 + stride])
        if kind == 1:  # Sub
            for i in range(channels, stride):
                line[i] = (line[i] + line[i - channels]) & 0xFF
        elif kind == 2:  # Up
            line = bytearray((a + b) & 0xFF for a, b in zip(line, previous))
        elif kind == 3:  # Average
            for i in range(stride):
                left = line[i - channels] if i >= channels else 0
                line[i] = (line[i] + ((left + previous[i]) >> 1)) & 0xFF
        elif kind == 4:  # Paeth
            for i in range(stride):
                a = line[i - channels] if i >= channels else 0
                b = previous[i]
                c = previous[i - channels] if i >= channels else 0
                p = a + b - c
                pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
                predictor = a if pa <= pb and pa <= pc else b if pb <= pc else c
                line[i] = (line[i] + predictor) & 0xFF
        elif kind != 0:
            fail(f"{path}: row {y} has unknown filter {kind}")
        rows.append(line)
        previous = line
    return width, height, channels, rows


def hex_rgb(text):
    text = text.lstrip("#")
    return tuple(int(text[i:i + 2], 16) for i in (0, 2, 4))


def check_png(path, background, colours):
    width, height, channels, rows = read_png(path)
    counts = {}
    for line in rows:
        for x in range(0, width * channels, channels):
            key = bytes(line[x:x + 3])
            counts[key] = counts.get(key, 0) + 1
    total = width * height
    bg = bytes(hex_rgb(background))
    top_left = bytes(rows[0][0:3])
    if top_left != bg:
        fail(f"{path}: the page background is #{top_left.hex()}, expected #{bg.hex()}")
    drawn = total - counts.get(bg, 0)
    print(f"{path}: {width}x{height}, {len(counts)} distinct colours, "
          f"{100.0 * drawn / total:.1f}% of pixels not background")
    if len(counts) < 50 or drawn < total // 100:
        fail(f"{path}: looks blank ({len(counts)} colours, {drawn} pixels drawn)")
    for colour in colours:
        want = hex_rgb(colour)
        near = sum(n for c, n in counts.items()
                   if max(abs(c[0] - want[0]), abs(c[1] - want[1]), abs(c[2] - want[2])) <= 24)
        print(f"  #{colour.lstrip('#')}: {near} pixels")
        if near < 100:
            fail(f"{path}: colour #{colour.lstrip('#')} is (nearly) nowhere: {near} pixels")


def check_dom(path, run_a, run_b):
    with open(path, encoding="utf-8") as f:
        dom = f.read()
    checks = [
        ("4 charts", len(re.findall(r'<svg class="chart"', dom)) == 4),
        ("a solid curve per run on every chart", len(re.findall(r'<path class="curve" ', dom)) >= 8),
        ("dashed validation curves for both runs", len(re.findall(r'<path class="curve dashed" ', dom)) >= 4),
        ("curves in both runs' colours", 'stroke:var(--run-0)' in dom and 'stroke:var(--run-1)' in dom),
        (f"legend names {run_a}", f">{run_a} loss</text>" in dom and f">{run_a} val_loss</text>" in dom),
        (f"legend names {run_b}", f">{run_b} loss</text>" in dom and f">{run_b} accuracy</text>" in dom),
        ("ticks on the axes", len(re.findall(r'class="tick y-tick"', dom)) >= 8),
        ("the first divergence marked on both step charts", len(re.findall(r'<g class="marker">', dom)) == 2),
        ("a verdict", "verdict: DIFFER" in dom or "verdict: SAME" in dom),
        ("the seed row highlighted", re.search(r'<tr id="row-\d+" class="differ">[^\n]*'
                                                r'<td class="key">seed</td>', dom) is not None),
        ("no script", "<script" not in dom),
    ]
    for name, ok in checks:
        print(f"  {'ok  ' if ok else 'FAIL'} {name}")
    missing = [name for name, ok in checks if not ok]
    if missing:
        fail(f"{path}: the rendered page lacks: {', '.join(missing)}")


def main(argv):
    if len(argv) >= 4 and argv[1] == "png":
        check_png(argv[2], argv[3], argv[4:])
    elif len(argv) == 5 and argv[1] == "dom":
        check_dom(argv[2], argv[3], argv[4])
    else:
        print(__doc__, file=sys.stderr)
        sys.exit(2)


if __name__ == "__main__":
    main(sys.argv)
