#!/usr/bin/env python3
# SPDX-License-Identifier: (LGPL-2.1 OR BSD-2-Clause)
"""Check that files are whole PNGs of given sizes with something drawn on them.

usage: pngcheck.py [--no-pixels] FILE WIDTH HEIGHT [FILE WIDTH HEIGHT...]

Valid: the PNG signature, every chunk's CRC, IHDR first and IEND last, the
IDAT stream inflates to exactly the rows IHDR promises.  Not blank: after
undoing the row filters, at least MIN_COLORS distinct pixel values, and at
least MIN_INK of the pixels in a saturated colour (the figures draw data in
colour and frames, text and grid in black and grey, so a plot whose data is
missing has none).  8-bit RGB and RGBA only, which is what gnuplot's pngcairo
writes.  --no-pixels checks the structure and the size only (no row
decoding: about 0.5 s of CPU less an image).  Prints a line a file, in
order, "ok FILE: WxH, N colours, ink P%" or "FAIL FILE: the reason", and
exits 0 when every file passed, 1 when one did not, 2 on bad usage.
One process checks them all: starting Python is the slow part.
"""
import collections
import itertools
import struct
import sys
import zlib

MIN_COLORS = 8
MIN_INK = 0.002
SAT = 60  # max - min channel value that counts as a colour, not a grey


def chunks(data):
    pos = 8
    while pos < len(data):
        if pos + 8 > len(data):
            raise ValueError("truncated chunk header")
        n, kind = struct.unpack(">I4s", data[pos:pos + 8])
        body = data[pos + 8:pos + 8 + n]
        if len(body) != n or pos + 12 + n > len(data):
            raise ValueError("truncated %s chunk" % kind.decode("latin1"))
        (crc,) = struct.unpack(">I", data[pos + 8 + n:pos + 12 + n])
        if zlib.crc32(kind + body) != crc:
            raise ValueError("bad CRC in %s chunk" % kind.decode("latin1"))
        yield kind, body
        pos += 12 + n


def paeth(a, b, c):
    p = a + b - c
    pa, pb, pc = abs(p - a), abs(p - b), abs(p - c)
    if pa <= pb and pa <= pc:
        return a
    return b if pb <= pc else c


def add_bytes(x, y, n):
    """x + y byte by byte, mod 256, on n-byte strings, without a loop in Python."""
    lo, hi = int.from_bytes(b"\x7f" * n, "big"), int.from_bytes(b"\x80" * n, "big")
    xi, yi = int.from_bytes(x, "big"), int.from_bytes(y, "big")
    # the low 7 bits add without crossing into the next byte; the top bit is an xor
    return (((xi & lo) + (yi & lo)) ^ ((xi ^ yi) & hi)).to_bytes(n, "big")


def unfilter(raw, width, height, bpp):
    """The image's rows, row filters undone (PNG spec, section 9)."""
    stride = width * bpp
    if len(raw) != height * (stride + 1):
        raise ValueError("image data is %d bytes, IHDR wants %d" % (len(raw), height * (stride + 1)))
    prev = bytes(stride)
    mask = (255).__and__
    rows = []
    for y in range(height):
        ftype = raw[y * (stride + 1)]
        cur = raw[y * (stride + 1) + 1:(y + 1) * (stride + 1)]
        if ftype == 1:  # Sub: a running sum per channel
            out = bytearray(stride)
            for c in range(bpp):
                out[c::bpp] = bytes(map(mask, itertools.accumulate(cur[c::bpp])))
            cur = bytes(out)
        elif ftype == 2:  # Up
            cur = add_bytes(cur, prev, stride)
        elif ftype == 3:  # Average: one byte after the other
            out = bytearray(cur)
            for i in range(stride):
                left = out[i - bpp] if i >= bpp else 0
                out[i] = (out[i] + ((left + prev[i]) >> 1)) & 0xFF
            cur = bytes(out)
        elif ftype == 4:  # Paeth: one byte after the other
            out = bytearray(cur)
            for i in range(bpp):  # no left neighbour: the predictor is the byte above
                out[i] = (out[i] + prev[i]) & 0xFF
            for i in range(bpp, stride):
                a, b, c = out[i - bpp], prev[i], prev[i - bpp]
                if a != b or b != c:  # a flat background predicts itself
                    a = paeth(a, b, c)
                out[i] = (out[i] + a) & 0xFF
            cur = bytes(out)
        elif ftype != 0:
            raise ValueError("row %d has filter type %d" % (y, ftype))
        rows.append(cur)
        prev = cur
    return rows


def check(path, want_w, want_h, pixels=True):
    with open(path, "rb") as f:
        data = f.read()
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG (no signature)")
    seen = list(chunks(data))
    if not seen or seen[0][0] != b"IHDR":
        raise ValueError("IHDR is not the first chunk")
    if seen[-1][0] != b"IEND":
        raise ValueError("IEND is not the last chunk")
    w, h, depth, ctype, _, _, interlace = struct.unpack(">IIBBBBB", seen[0][1])
    if (w, h) != (want_w, want_h):
        raise ValueError("size %dx%d, expected %dx%d" % (w, h, want_w, want_h))
    if depth != 8 or ctype not in (2, 6) or interlace:
        raise ValueError("bit depth %d, colour type %d, interlace %d: only 8-bit RGB(A), "
                         "not interlaced, is checked" % (depth, ctype, interlace))
    bpp = 3 if ctype == 2 else 4
    raw = zlib.decompress(b"".join(body for kind, body in seen if kind == b"IDAT"))
    if not pixels:
        if len(raw) != h * (w * bpp + 1):
            raise ValueError("image data is %d bytes, IHDR wants %d" % (len(raw), h * (w * bpp + 1)))
        return "%dx%d, structure only" % (w, h)
    img = b"".join(unfilter(raw, w, h, bpp))
    count = collections.Counter(zip(*(img[c::bpp] for c in range(bpp))))
    colors = len(count)
    # opaque enough, and a colour rather than a grey
    ink = sum(n for px, n in count.items()
              if (bpp == 3 or px[3] >= 128) and max(px[:3]) - min(px[:3]) > SAT)
    share = ink / (w * h)
    if colors < MIN_COLORS:
        raise ValueError("blank: %d distinct colours" % colors)
    if share < MIN_INK:
        raise ValueError("blank: %.2f%% of the pixels in colour (data), at least %.1f%% wanted"
                         % (100 * share, 100 * MIN_INK))
    return "%dx%d, %d colours, ink %.1f%%" % (w, h, colors, 100 * share)


def main(argv):
    if len(argv) > 1 and argv[1] in ("-h", "--help"):
        print(__doc__)
        return 0
    pixels = not (len(argv) > 1 and argv[1] == "--no-pixels")
    args = argv[1:] if pixels else argv[2:]
    if not args or len(args) % 3 or not all(a.isdigit() for a in args[1::3] + args[2::3]):
        print(__doc__.strip().split("\n\n")[1], file=sys.stderr)
        return 2
    rc = 0
    for i in range(0, len(args), 3):
        path = args[i]
        try:
            print("ok %s: %s" % (path, check(path, int(args[i + 1]), int(args[i + 2]), pixels)))
        except (OSError, ValueError, zlib.error, struct.error) as e:
            print("FAIL %s: %s" % (path, e))
            rc = 1
    return rc


if __name__ == "__main__":
    sys.exit(main(sys.argv))
