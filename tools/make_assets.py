#!/usr/bin/env python3
"""Generate Fernhill email image assets (flat illustrations) with Pillow.

Usage:
    python tools/make_assets.py [--out DIR]

Writes (relative to DIR, default: the repository root):
    assets/products/FH-1001.png ... FH-1016.png   480x480 product tiles (transparent corners)
    assets/brand/logo.png, assets/brand/logo-light.png   360x80 wordmarks
    assets/hero/{welcome,newsletter,cart,browse,winback}.png   1200x600 scenes

Output is deterministic: no unseeded randomness, no timestamps.
Everything is drawn at SS x resolution and downscaled with LANCZOS for smooth
edges, then palette-quantised (no dithering) to keep files small.
Requires only Pillow (Python 3.11+).
"""
from __future__ import annotations

import argparse
import io
import math
import random
from pathlib import Path

from PIL import Image, ImageChops, ImageDraw, ImageFilter, ImageFont

SS = 2  # supersampling factor

# --- brand palette ---------------------------------------------------------
FOREST = "#1F3D2B"
SAND = "#F3EDE2"
TERRA = "#C8623A"
CHAR = "#2B2B2B"
# supporting naturals
FOREST_MID = "#2F5A41"
MOSS = "#4F6B45"
LEAF = "#5C8A5E"
SAGE = "#8FA58A"
SAGE_LT = "#C9D6C3"
OCHRE = "#D9A441"
HONEY = "#E8B65A"
CREAM = "#FBF8F2"
OAT = "#E9DFCC"
STONE = "#EDE5D8"
WOOD = "#B98A5E"
WOOD_LT = "#D8B48A"
WOOD_DK = "#8C6239"
LEATHER = "#7A4A2A"
BRASS = "#C9A24A"
COFFEE = "#5B3A26"
CLAY = "#D98A64"
WHITE = "#FFFFFF"

GROUND = 392  # baseline (in 480 product space) that objects stand on
CARD_RADIUS = 36  # the product tile's rounded corners; outside them the PNG is transparent


# --- colour helpers ---------------------------------------------------------
def col(c, alpha=None):
    """'#rrggbb' / '#rrggbbaa' / tuple -> RGBA tuple."""
    if isinstance(c, str):
        h = c.lstrip("#")
        r, g, b = int(h[0:2], 16), int(h[2:4], 16), int(h[4:6], 16)
        a = int(h[6:8], 16) if len(h) == 8 else 255
        t = (r, g, b, a)
    else:
        t = tuple(c) if len(c) == 4 else tuple(c) + (255,)
    if alpha is not None:
        t = t[:3] + (int(alpha),)
    return t


def mix(c1, c2, t):
    a, b = col(c1), col(c2)
    return tuple(round(a[i] + (b[i] - a[i]) * t) for i in range(3)) + (255,)


def darker(c, t=0.15):
    return mix(c, "#000000", t)


def lighter(c, t=0.2):
    return mix(c, "#FFFFFF", t)


# --- geometry helpers -------------------------------------------------------
def qbez(p0, p1, p2, n=24):
    out = []
    for i in range(n + 1):
        t = i / n
        u = 1 - t
        out.append((u * u * p0[0] + 2 * u * t * p1[0] + t * t * p2[0],
                    u * u * p0[1] + 2 * u * t * p1[1] + t * t * p2[1]))
    return out


def cbez(p0, p1, p2, p3, n=32):
    out = []
    for i in range(n + 1):
        t = i / n
        u = 1 - t
        out.append((u ** 3 * p0[0] + 3 * u * u * t * p1[0] + 3 * u * t * t * p2[0] + t ** 3 * p3[0],
                    u ** 3 * p0[1] + 3 * u * u * t * p1[1] + 3 * u * t * t * p2[1] + t ** 3 * p3[1]))
    return out


def ell_pts(cx, cy, rx, ry, a0, a1, n=40):
    """Points on an ellipse; angles in degrees, 0 = right, 90 = down."""
    return [(cx + rx * math.cos(math.radians(a0 + (a1 - a0) * i / n)),
             cy + ry * math.sin(math.radians(a0 + (a1 - a0) * i / n))) for i in range(n + 1)]


def rot(pts, cx, cy, deg):
    a = math.radians(deg)
    ca, sa = math.cos(a), math.sin(a)
    return [(cx + (x - cx) * ca - (y - cy) * sa, cy + (x - cx) * sa + (y - cy) * ca) for x, y in pts]


def leaf_pts(bx, by, angle, length, width, n=16):
    """Lens-shaped leaf from base (bx,by); angle in degrees clockwise from 'up'."""
    a = math.radians(angle)
    dx, dy = math.sin(a), -math.cos(a)
    tx, ty = bx + dx * length, by + dy * length
    px, py = -dy, dx
    mx, my = bx + dx * length * 0.45, by + dy * length * 0.45
    c1 = (mx + px * width, my + py * width)
    c2 = (mx - px * width, my - py * width)
    return qbez((bx, by), c1, (tx, ty), n) + qbez((tx, ty), c2, (bx, by), n)[1:]


def wave(x0, x1, y, amp, period, phase=0.0, step=4):
    pts = []
    x = x0
    while x <= x1:
        pts.append((x, y + amp * math.sin((x / period) * 2 * math.pi + phase)))
        x += step
    return pts


# --- drawing surface --------------------------------------------------------
class Pen:
    """Draws in logical pixels on a supersampled RGBA (or L mask) image."""

    def __init__(self, w, h, bg=(0, 0, 0, 0), ss=SS, mode="RGBA"):
        self.w, self.h, self.ss, self.mode = w, h, ss, mode
        fill = col(bg) if mode == "RGBA" else bg
        self.img = Image.new(mode, (w * ss, h * ss), fill)
        self.d = ImageDraw.Draw(self.img)

    def blank(self, mode="RGBA"):
        return Pen(self.w, self.h, (0, 0, 0, 0) if mode == "RGBA" else 0, self.ss, mode)

    # coordinate + colour conversion
    def _pts(self, pts):
        return [(x * self.ss, y * self.ss) for x, y in pts]

    def _box(self, box):
        return [v * self.ss for v in box]

    def _c(self, c):
        if c is None:
            return None
        if self.mode == "L":
            return c
        return col(c)

    def _run(self, fn, *colours):
        cs = [self._c(c) for c in colours]
        translucent = self.mode == "RGBA" and any(c is not None and c[3] < 255 for c in cs)
        if translucent:
            layer = Image.new("RGBA", self.img.size, (0, 0, 0, 0))
            fn(ImageDraw.Draw(layer), *cs)
            self.img.alpha_composite(layer)
        else:
            fn(self.d, *cs)

    # primitives
    def rect(self, box, fill=None, r=0, outline=None, width=0):
        b = self._box(box)
        rr, ww = r * self.ss, int(round(width * self.ss))
        if r:
            self._run(lambda d, f, o: d.rounded_rectangle(b, radius=rr, fill=f, outline=o, width=ww), fill, outline)
        else:
            self._run(lambda d, f, o: d.rectangle(b, fill=f, outline=o, width=ww), fill, outline)

    def ellipse(self, box, fill=None, outline=None, width=0):
        b = self._box(box)
        ww = int(round(width * self.ss))
        self._run(lambda d, f, o: d.ellipse(b, fill=f, outline=o, width=ww), fill, outline)

    def circle(self, cx, cy, r, fill=None, outline=None, width=0):
        self.ellipse((cx - r, cy - r, cx + r, cy + r), fill, outline, width)

    def poly(self, pts, fill=None, outline=None, width=0):
        p = self._pts(pts)
        ww = int(round(width * self.ss))
        if outline is not None and width:
            def fn(d, f, o):
                d.polygon(p, fill=f)
                d.line(p + [p[0]], fill=o, width=ww, joint="curve")
            self._run(fn, fill, outline)
        else:
            self._run(lambda d, f: d.polygon(p, fill=f), fill)

    def line(self, pts, fill, width=2, caps=True):
        p = self._pts(pts)
        ww = max(1, int(round(width * self.ss)))
        rad = ww / 2

        def fn(d, f):
            d.line(p, fill=f, width=ww, joint="curve")
            if caps and ww > 2:
                for x, y in (p[0], p[-1]):
                    d.ellipse((x - rad, y - rad, x + rad, y + rad), fill=f)
        self._run(fn, fill)

    def arc(self, box, a0, a1, fill, width=2):
        b = self._box(box)
        ww = int(round(width * self.ss))
        self._run(lambda d, f: d.arc(b, a0, a1, fill=f, width=ww), fill)

    def pie(self, box, a0, a1, fill):
        b = self._box(box)
        self._run(lambda d, f: d.pieslice(b, a0, a1, fill=f), fill)

    def chord(self, box, a0, a1, fill):
        b = self._box(box)
        self._run(lambda d, f: d.chord(b, a0, a1, fill=f), fill)

    def dashed(self, p0, p1, fill, width=2, dash=7, gap=5):
        (x0, y0), (x1, y1) = p0, p1
        length = math.hypot(x1 - x0, y1 - y0)
        if length == 0:
            return
        ux, uy = (x1 - x0) / length, (y1 - y0) / length
        segs = []
        t = 0.0
        while t < length:
            e = min(t + dash, length)
            segs.append([(x0 + ux * t, y0 + uy * t), (x0 + ux * e, y0 + uy * e)])
            t = e + gap
        for s in segs:
            self.line(s, fill, width, caps=False)

    def cut(self, fn):
        """Punch a transparent hole: fn(mask_pen) draws the hole with 255."""
        m = self.blank("L")
        fn(m)
        a = self.img.getchannel("A")
        self.img.putalpha(ImageChops.subtract(a, m.img))

    # compositing helpers
    def masked(self, shape_fn, draw_fn):
        """Draw draw_fn(layer) clipped to the shape drawn by shape_fn(mask)."""
        layer = self.blank()
        draw_fn(layer)
        m = self.blank("L")
        shape_fn(m)
        layer.img.putalpha(ImageChops.multiply(layer.img.getchannel("A"), m.img))
        self.img.alpha_composite(layer.img)

    def group(self, draw_fn, angle=0.0, center=(0, 0), opacity=1.0):
        layer = self.blank()
        draw_fn(layer)
        img = layer.img
        if angle:
            img = img.rotate(-angle, resample=Image.Resampling.BICUBIC,
                             center=(center[0] * self.ss, center[1] * self.ss))
        if opacity < 1.0:
            a = img.getchannel("A").point(lambda v: int(v * opacity))
            img.putalpha(a)
        self.img.alpha_composite(img)

    def glow(self, cx, cy, r, colour, alpha):
        """Soft radial glow: a blurred translucent disc."""
        mask = self.blank("L")
        mask.circle(cx, cy, r * 0.7, alpha)
        layer = Image.new("RGBA", self.img.size, col(colour, 0))
        layer.putalpha(mask.img.filter(ImageFilter.GaussianBlur(r * 0.3 * self.ss)))
        self.img.alpha_composite(layer)

    def place(self, src: Image.Image, x, y, w, h, flip=False):
        """Composite an RGBA image (any resolution) into logical box x,y,w,h."""
        tw, th = int(round(w * self.ss)), int(round(h * self.ss))
        im = src.resize((tw, th), Image.Resampling.LANCZOS)
        if flip:
            im = im.transpose(Image.Transpose.FLIP_LEFT_RIGHT)
        dx, dy = int(round(x * self.ss)), int(round(y * self.ss))
        sx, sy = max(0, -dx), max(0, -dy)
        if sx or sy:
            im = im.crop((sx, sy, im.width, im.height))
            dx, dy = dx + sx, dy + sy
        self.img.alpha_composite(im, dest=(dx, dy))

    def output(self):
        return self.img.resize((self.w, self.h), Image.Resampling.LANCZOS)


def speckle(p, box, n, colour, rmin, rmax, seed):
    rng = random.Random(seed)
    x0, y0, x1, y1 = box
    for _ in range(n):
        x, y = rng.uniform(x0, x1), rng.uniform(y0, y1)
        p.circle(x, y, rng.uniform(rmin, rmax), colour)


# ===========================================================================
# Products (drawn in a 480x480 logical space; objects stand on y = GROUND)
# ===========================================================================

def draw_pour_over(p):
    glass_edge = "#9DB5B2"
    # --- glass server
    body = (112, 262, 288, GROUND)

    def body_shape(m):
        m.rect(body, 255, r=58)

    p.masked(body_shape, lambda l: (l.rect((100, 318, 300, 400), COFFEE),
                                    l.ellipse((112, 308, 288, 328), "#7A5236")))
    p.rect(body, col(WHITE, 80), r=58, outline=glass_edge, width=4)
    p.line([(136, 300), (136, 352)], col(WHITE, 210), 8)
    p.arc((262, 290, 324, 364), -80, 80, glass_edge, 8)
    p.rect((170, 242, 230, 266), col(WHITE, 110), outline=glass_edge, width=4)
    # --- stoneware dripper
    p.ellipse((80, 146, 152, 208), STONE)
    p.cut(lambda m: m.ellipse((95, 160, 130, 194), 255))
    p.ellipse((138, 232, 262, 254), "#D9CDB9")
    cone = [(106, 132), (294, 132), (234, 240), (166, 240)]
    p.poly(cone, STONE)
    p.poly([(256, 132), (294, 132), (234, 240), (220, 240)], "#E1D6C5")
    p.masked(lambda m: m.poly(cone, 255),
             lambda l: speckle(l, (100, 130, 300, 240), 55, "#8E7E6A", 1.2, 2.4, 1001))
    p.ellipse((102, 118, 298, 146), "#F6F1E8")
    p.ellipse((116, 123, 284, 141), "#6E4B33")
    p.ellipse((150, 126, 250, 136), "#8A6244")
    # --- terracotta cup
    cup = [(316, 316), (404, 316), (396, 376)] + ell_pts(360, 376, 36, 16, 0, 180)[1:-1] + [(324, 376)]
    p.arc((384, 328, 430, 372), -80, 80, TERRA, 10)
    p.poly(cup, TERRA)
    p.masked(lambda m: m.poly(cup, 255), lambda l: (l.rect((376, 300, 420, 400), darker(TERRA, 0.12)),
                                                  l.rect((300, 300, 420, 334), "#EBDDCB")))
    p.ellipse((314, 306, 406, 326), "#F3E8D8")
    p.ellipse((322, 310, 398, 323), COFFEE)


def draw_skillet(p):
    cx, cy, rx, ry, depth = 205, 270, 140, 84, 32
    iron, iron_dk, iron_in, iron_lt = "#3A3C40", "#26282B", "#2E3033", "#6C7076"
    # long handle with hanging hole
    p.poly([(cx + 96, cy - 30), (cx + 104, cy + 20), (424, 214), (414, 186)], iron)
    p.circle(440, 196, 24, iron)
    p.cut(lambda m: m.circle(440, 196, 9, 255))
    # helper handle
    p.ellipse((cx - rx - 38, cy - 6, cx - rx + 20, cy + 30), iron)
    p.cut(lambda m: m.ellipse((cx - rx - 24, cy + 4, cx - rx - 2, cy + 20), 255))
    # body
    p.ellipse((cx - rx, cy - ry + depth, cx + rx, cy + ry + depth), iron_dk)
    p.rect((cx - rx, cy, cx + rx, cy + depth), iron_dk)
    p.ellipse((cx - rx, cy - ry, cx + rx, cy + ry), iron)
    p.ellipse((cx - rx + 16, cy - ry + 12, cx + rx - 16, cy + ry - 6), iron_in)
    p.arc((cx - rx + 4, cy - ry + 3, cx + rx - 4, cy + ry - 3), 195, 255, iron_lt, 5)
    p.arc((cx - rx, cy - ry + depth, cx + rx, cy + ry + depth), 100, 150, "#3F4246", 4)
    # fried egg
    for (ex, ey, erx, ery) in [(cx - 28, cy + 8, 56, 34), (cx + 22, cy - 4, 46, 30), (cx + 4, cy + 22, 44, 26)]:
        p.ellipse((ex - erx, ey - ery, ex + erx, ey + ery), CREAM)
    p.ellipse((cx - 24, cy - 10, cx + 20, cy + 20), "#F2B134")
    p.ellipse((cx - 14, cy - 5, cx - 2, cy + 2), col(WHITE, 170))
    # herbs + pepper
    for ang, bx, by in [(-60, cx + 70, cy + 30), (-20, cx + 78, cy + 34), (30, cx + 84, cy + 30)]:
        p.poly(leaf_pts(bx, by, ang, 26, 8), LEAF)
    speckle(p, (cx - 40, cy - 20, cx + 50, cy + 40), 14, CHAR, 1.2, 1.8, 1002)


def draw_tea_towels(p):
    # wooden rail
    for bx in (96, 384):
        p.rect((bx - 8, 96, bx + 8, 122), WOOD_DK, r=4)
    p.line([(64, 118), (416, 118)], WOOD, 12)
    p.circle(62, 118, 11, WOOD_DK)
    p.circle(418, 118, 11, WOOD_DK)

    def towel(x0, x1, back_end, front_end, base, dark, light, pattern):
        p.rect((x0 + 4, 112, x1 - 4, back_end), dark, r=6)
        p.masked(lambda m: m.rect((x0 + 4, 112, x1 - 4, back_end), 255, r=6),
                 lambda l: pattern(l, x0, x1, back_end, True))
        p.rect((x0, 112, x1, front_end), base, r=6)
        p.masked(lambda m: m.rect((x0, 112, x1, front_end), 255, r=6),
                 lambda l: pattern(l, x0, x1, front_end, False))
        p.rect((x0, 104, x1, 132), light, r=13)
        p.dashed((x0 + 8, front_end - 9), (x1 - 8, front_end - 9), col(CHAR, 70), 1.6, 5, 4)

    def stripes(l, x0, x1, end, back):
        c = darker(TERRA, 0.12) if back else TERRA
        for dy, hgt, cc in [(-52, 10, c), (-36, 4, c), (-28, 4, FOREST if not back else darker(FOREST, 0.1))]:
            l.rect((x0 - 2, end + dy, x1 + 2, end + dy + hgt), cc)

    def check(l, x0, x1, end, back):
        cc = col(FOREST, 60 if back else 75)
        for x in range(x0 + 10, x1, 20):
            l.rect((x, 100, x + 6, end), cc)
        for y in range(122, end, 20):
            l.rect((x0, y, x1, y + 6), cc)

    towel(108, 228, 384, 326, OAT, "#D9CCB4", "#F4EDE0", stripes)
    towel(250, 360, 368, 312, "#C5D2BE", "#ABBBA3", "#D8E2D2", check)
    # wooden spoon on an S-hook
    p.arc((376, 112, 394, 130), 180, 90, CHAR, 3)
    p.line([(385, 132), (385, 140)], CHAR, 3)
    p.line([(385, 146), (385, 272)], WOOD_LT, 10)
    p.ellipse((366, 262, 404, 330), WOOD_LT)
    p.ellipse((372, 272, 398, 320), "#C9A073")
    p.rect((379, 140, 391, 152), WOOD_LT, r=6)


def draw_cutting_board(p):
    base, edge, g1, g2 = "#D7B184", "#A57A4E", "#A9794A", "#C39A6C"

    def shape(l, dx, dy, c):
        l.rect((146 + dx, 178 + dy, 334 + dx, 402 + dy), c, r=72)
        l.rect((204 + dx, 84 + dy, 276 + dx, 210 + dy), c, r=36)

    def board(l):
        shape(l, 7, 6, edge)
        shape(l, 0, 0, base)

        def grain(g):
            rng = random.Random(1004)
            for i in range(11):
                y = 100 + i * 28 + rng.uniform(-6, 6)
                g.line(wave(130, 350, y, rng.uniform(4, 10), rng.uniform(70, 130), rng.uniform(0, 6)),
                       g1 if i % 2 else g2, rng.uniform(2.2, 4.0))
            g.ellipse((180, 250, 226, 276), None, g1, 3)
            g.ellipse((190, 256, 216, 270), None, g2, 2.5)
            g.ellipse((262, 316, 306, 338), None, g1, 3)
        l.masked(lambda m: shape(m, 0, 0, 255), grain)
        l.cut(lambda m: m.circle(240, 118, 12, 255))
        l.arc((222, 100, 258, 136), 200, 340, col("#000000", 40), 3)

    p.group(board, angle=-9, center=(240, 300))
    # rosemary sprig
    p.line(qbez((92, 392), (130, 370), (184, 352)), MOSS, 4.5)
    for i in range(9):
        t = i / 9
        bx, by = 96 + t * 84, 390 - t * 36
        p.poly(leaf_pts(bx, by, -10 + (i % 2) * 80 - 40, 26, 6), MOSS if i % 2 else LEAF)
    # lemon half
    p.circle(356, 352, 46, "#E3B23C")
    p.circle(356, 352, 40, "#FAF1CF")
    p.circle(356, 352, 35, "#F3CB48")
    for k in range(8):
        a = math.radians(k * 45 + 10)
        p.line([(356, 352), (356 + 34 * math.cos(a), 352 + 34 * math.sin(a))], "#FAF1CF", 3, caps=False)
    p.circle(356, 352, 6, "#FAF1CF")


def draw_blanket(p):
    cx0, cx1, y0, y1 = 128, 380, 238, 372
    cy, ry, rx = (y0 + y1) / 2, (y1 - y0) / 2, 36
    base, shade, light = "#F1E8D6", "#DCCFB7", "#FAF5EC"

    def body_shape(m):
        m.rect((cx0, y0, cx1, y1), 255)
        m.ellipse((cx1 - rx, y0, cx1 + rx, y1), 255)

    def body(l):
        l.rect((0, 0, 480, 480), base)
        for bx in (168, 300):
            for off, w, c in [(0, 16, FOREST), (22, 6, OCHRE), (34, 16, TERRA), (56, 6, OCHRE)]:
                l.rect((bx + off, 0, bx + off + w, 480), c)
        l.rect((0, y1 - 34, 480, y1 + 2), col("#000000", 28))
        l.rect((0, y0 + 16, 480, y0 + 30), col(WHITE, 80))

    p.masked(body_shape, body)
    # spiral end
    p.ellipse((cx0 - rx, y0, cx0 + rx, y1), shade)
    for i, r in enumerate(range(60, 4, -9)):
        k = r / 67
        p.ellipse((cx0 - rx * k - 2, cy - ry * k, cx0 + rx * k - 2, cy + ry * k), base if i % 2 == 0 else shade)
    p.ellipse((cx0 - 5, cy - 8, cx0 + 3, cy + 8), "#C7B89C")
    # straps + carry handle
    p.arc((214, 150, 334, 300), 200, 340, LEATHER, 9)
    for sx in (212, 312):
        p.rect((sx, y0 - 10, sx + 24, y1 + 10), LEATHER, r=6)
        p.rect((sx - 4, cy - 4, sx + 28, cy + 22), None, r=3, outline=BRASS, width=4)
        p.dashed((sx + 4, y0 - 4), (sx + 4, y1 + 4), col(SAND, 150), 1.4, 4, 4)
        p.dashed((sx + 20, y0 - 4), (sx + 20, y1 + 4), col(SAND, 150), 1.4, 4, 4)


def draw_camp_mug(p):
    cx, top, bot, rx, ry = 212, 196, 374, 84, 16
    green, green_dk, rim = "#3E6B50", "#335A43", FOREST
    body = [(cx - rx, top), (cx + rx, top), (cx + rx - 6, bot)] + \
        ell_pts(cx, bot, rx - 6, ry, 0, 180)[1:-1] + [(cx - rx + 6, bot)]
    # handle
    hb = (cx + rx - 44, top + 24, cx + rx + 62, top + 138)
    p.ellipse(hb, rim)
    p.ellipse((hb[0] + 4, hb[1] + 4, hb[2] - 4, hb[3] - 4), green_dk)
    p.cut(lambda m: m.ellipse((hb[0] + 22, hb[1] + 22, hb[2] - 22, hb[3] - 22), 255))
    p.ellipse((hb[0] + 20, hb[1] + 20, hb[2] - 20, hb[3] - 20), None, rim, 3)
    p.poly(body, green)
    p.masked(lambda m: m.poly(body, 255), lambda l: (
        l.rect((cx + rx - 40, 100, cx + rx + 10, 420), green_dk),
        l.rect((cx - rx + 16, top + 20, cx - rx + 30, bot - 10), col(WHITE, 50), r=7),
        speckle(l, (cx - rx, top, cx + rx, bot + ry), 70, "#EAF0E6", 1.0, 2.2, 1006),
    ))
    p.line(ell_pts(cx, bot, rx - 6, ry, 0, 180), rim, 5)
    p.ellipse((cx - rx, top - ry, cx + rx, top + ry), "#F5F1E8")
    p.ellipse((cx - rx + 10, top - ry + 6, cx + rx - 10, top + ry - 2), COFFEE)
    p.ellipse((cx - rx, top - ry, cx + rx, top + ry), None, rim, 5)
    # steam
    for i, sx in enumerate((cx - 26, cx + 18)):
        pts = [(sx + 10 * math.sin(t / 12 + i), top - 30 - t) for t in range(0, 80, 4)]
        p.line(pts, col(WHITE, 200), 7)


def draw_daypack(p):
    canvas, canvas_dk, canvas_lt = "#8E875A", "#766F48", "#A39C6E"
    body = (128, 140, 352, GROUND - 4)
    # top handle + shoulder straps peeking out
    p.arc((206, 92, 274, 168), 180, 360, LEATHER, 10)
    p.rect((118, 170, 142, 360), darker(canvas, 0.3), r=10)
    p.rect((338, 170, 362, 360), darker(canvas, 0.3), r=10)
    p.rect(body, canvas, r=62)
    p.masked(lambda m: m.rect(body, 255, r=62), lambda l: (
        l.rect((0, GROUND - 36, 480, 480), LEATHER),
        l.rect((310, 0, 480, 480), col("#000000", 25)),
    ))
    # front pocket
    p.rect((170, 284, 310, 364), canvas_dk, r=22)
    p.rect((176, 290, 304, 358), None, r=18, outline=col(SAND, 110), width=1.6)
    # flap
    flap = (140, 132, 340, 276)
    p.rect(flap, canvas_lt, r=58)
    p.masked(lambda m: m.rect(flap, 255, r=58), lambda l: l.rect((0, 132, 480, 150), col(WHITE, 40)))
    p.rect((148, 140, 332, 268), None, r=52, outline=col(SAND, 140), width=1.8)
    # straps with buckles
    for sx in (182, 276):
        p.rect((sx, 214, sx + 22, 330), LEATHER, r=5)
        p.rect((sx - 4, 296, sx + 26, 318), None, r=3, outline=BRASS, width=4)
        p.rect((sx + 8, 300, sx + 14, 316), BRASS)
    p.dashed((140, GROUND - 30), (340, GROUND - 30), col(SAND, 120), 1.6, 5, 4)


def _bottle(p, cx, top, h, w, colour, cap):
    bot = top + h
    nw = w * 0.64
    yn = top + 0.11 * h
    ys = top + 0.26 * h
    r = w * 0.24
    left = cbez((cx - nw / 2, yn), (cx - nw / 2, yn + 0.08 * h), (cx - w / 2, ys - 0.09 * h), (cx - w / 2, ys), 16)
    right = [(2 * cx - x, y) for x, y in reversed(left)]
    outline = left + ell_pts(cx - w / 2 + r, bot - r, r, r, 180, 90, 10) + \
        ell_pts(cx + w / 2 - r, bot - r, r, r, 90, 0, 10) + right
    p.poly(outline, colour)
    p.masked(lambda m: m.poly(outline, 255), lambda l: (
        l.rect((cx + w * 0.22, 0, 480, 480), col("#000000", 30)),
        l.rect((cx - w * 0.36, ys + 8, cx - w * 0.26, bot - 22), col(WHITE, 60), r=6),
        l.rect((0, bot - 14, 480, 480), col("#000000", 22)),
    ))
    p.rect((cx - nw / 2, yn - 6, cx + nw / 2, yn + 6), "#B9C0C2")
    p.arc((cx - nw * 0.3, top - 0.1 * h, cx + nw * 0.3, top + 0.06 * h), 180, 360, cap, max(5, w * 0.07))
    p.rect((cx - nw / 2 - 3, top, cx + nw / 2 + 3, yn - 4), cap, r=8)
    p.rect((cx - nw / 2 - 3, top + 4, cx + nw / 2 + 3, top + 10), col(WHITE, 35))
    lx, ly = cx, top + 0.58 * h
    p.poly(leaf_pts(lx, ly + 14, 0, 30, 9), col(SAND, 200))
    p.line([(lx, ly + 14), (lx, ly - 6)], colour, 1.5, caps=False)


def draw_bottles(p):
    _bottle(p, 300, 136, GROUND - 136, 92, "#E4D8C3", "#C7B79C")
    _bottle(p, 196, 78, GROUND - 78, 114, "#2F5A41", CHAR)


def draw_bath_towels(p):
    def towel(box, c, grid_col):
        x0, y0, x1, y1 = box
        p.rect(box, c, r=26)

        def grid(l):
            for x in range(int(x0) + 6, int(x1), 12):
                l.line([(x, y0), (x, y1)], grid_col, 2, caps=False)
            for y in range(int(y0) + 6, int(y1), 12):
                l.line([(x0, y), (x1, y)], grid_col, 2, caps=False)
            l.rect((x0, y0, x1, y0 + 14), col(WHITE, 70))
            l.rect((x0, y1 - 20, x1, y1 - 17), col("#000000", 35))
            l.rect((x0, y1 - 16, x1, y1), col("#000000", 18))
        p.masked(lambda m: m.rect(box, 255, r=26), grid)

    towel((92, 298, 388, GROUND), OAT, col("#9C8A6C", 70))
    towel((108, 216, 372, 304), "#B8C8B1", col(MOSS, 70))
    towel((126, 142, 354, 222), "#E4AA8C", col("#9E4F31", 70))
    # hanging loop on top towel
    p.arc((322, 126, 352, 160), 180, 360, darker("#E4AA8C", 0.12), 5)
    # eucalyptus sprig
    p.line(qbez((402, GROUND), (420, 300), (396, 220)), MOSS, 3)
    for i in range(7):
        t = (i + 0.5) / 7
        pt = qbez((402, GROUND), (420, 300), (396, 220), 7)[i]
        r = 13 - t * 5
        off = 12 if i % 2 else -12
        p.circle(pt[0] + off, pt[1], r, "#8FB0A0" if i % 2 else "#A7C2B3")


def _soap(p, x0, y0, w, th, top_h, top_c, side_c):
    p.rect((x0, y0 + top_h / 2, x0 + w, y0 + top_h + th), side_c, r=14)
    p.rect((x0, y0, x0 + w, y0 + top_h), top_c, r=top_h / 2)


def draw_soaps(p):
    # slatted dish
    p.rect((96, GROUND - 24, 384, GROUND), WOOD_DK, r=10)
    p.rect((96, GROUND - 34, 384, GROUND - 14), WOOD, r=10)
    for x in range(118, 370, 26):
        p.line([(x, GROUND - 30), (x, GROUND - 18)], WOOD_DK, 3)
    # three bars stacked
    _soap(p, 132, 282, 216, 32, 48, "#C77A58", "#A9593B")
    _soap(p, 144, 228, 192, 32, 46, "#F2E9D8", "#DCCFB6")
    p.rect((224, 228, 262, 306), FOREST)
    p.poly(leaf_pts(243, 290, 0, 18, 6), SAND)
    _soap(p, 158, 178, 164, 30, 42, "#B3C2A7", "#93A587")
    emboss = leaf_pts(204, 199, 90, 72, 13)
    p.poly(emboss, None, "#93A587", 3)
    p.line([(210, 199), (270, 199)], "#93A587", 2.4)
    # cedar sprig behind right
    stem = qbez((350, 360), (400, 300), (436, 236), 12)
    p.line(stem, "#6E5233", 3)
    for i, (x, y) in enumerate(stem[2:]):
        for side in (-1, 1):
            p.poly(leaf_pts(x, y, 40 + side * 55, 22 - i, 5), "#4F7A4E" if side > 0 else "#3D6541")


def draw_lamp(p):
    # glow
    # cord
    p.line(cbez((262, 382), (330, 392), (380, 360), (430, 388), 20), CHAR, 3)
    # base (gourd)
    p.rect((232, 206, 248, 244), BRASS)
    p.ellipse((160, 236, 320, 386), TERRA)
    p.masked(lambda m: m.ellipse((160, 236, 320, 386), 255), lambda l: (
        l.ellipse((200, 210, 380, 400), col("#000000", 30)),
        l.ellipse((182, 258, 222, 318), col(WHITE, 60)),
        *[l.arc((160, 236 + k, 320, 386 - k), 20, 160, col("#000000", 24), 2) for k in (20, 36)],
    ))
    p.ellipse((214, 232, 266, 246), darker(TERRA, 0.12))
    p.rect((196, 380, 284, GROUND), darker(TERRA, 0.25), r=6)
    # shade
    shade = [(180, 82), (300, 82), (344, 212), (136, 212)]
    p.poly(shade, "#F6EEDD")
    p.masked(lambda m: m.poly(shade, 255), lambda l: (
        *[l.line([(x, 70), (240 + (x - 240) * 1.4, 220)], col("#C9B896", 60), 2, caps=False)
          for x in range(188, 300, 14)],
        l.poly([(262, 70), (310, 70), (360, 220), (300, 220)], col("#000000", 18)),
    ))
    p.ellipse((136, 204, 344, 220), "#E7DAC2")
    p.ellipse((180, 76, 300, 88), "#EDE2CD")


def draw_pillow(p):
    x0, y0, x1, y1, k = 112, 124, 368, GROUND - 6, 22
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    top = qbez((x0, y0), (cx, y0 + k), (x1, y0))
    right = qbez((x1, y0), (x1 - k, cy), (x1, y1))
    bottom = qbez((x1, y1), (cx, y1 - k), (x0, y1))
    left = qbez((x0, y1), (x0 + k, cy), (x0, y0))
    shape = top + right[1:] + bottom[1:] + left[1:]
    base, knit = "#C8623A", "#AE5230"
    # tassels
    for tx, ty, ang in [(x0, y0, -45), (x1, y0, 45), (x1, y1, 135), (x0, y1, 225)]:
        for d in (-18, -6, 6, 18):
            a = math.radians(ang + d)
            p.line([(tx, ty), (tx + 32 * math.sin(a), ty - 32 * math.cos(a))], "#EADFC9", 4)
        p.circle(tx, ty, 7, "#D9CBB0")
    p.poly(shape, base)

    def pattern(l):
        for i, x in enumerate(range(int(x0) - 10, int(x1) + 20, 30)):
            for y in range(int(y0) - 10, int(y1) + 20, 18):
                l.line([(x - 11, y), (x, y + 10), (x + 11, y)], knit, 4)
        l.glow(cx - 10, cy - 16, 190, WHITE, 60)
        l.line(shape + [shape[0]], col("#000000", 40), 12)
    p.masked(lambda m: m.poly(shape, 255), pattern)
    p.line(shape + [shape[0]], darker(base, 0.25), 2.5)
    for ang in range(0, 360, 90):
        a = math.radians(ang + 45)
        p.line([(cx + 8 * math.cos(a), cy + 8 * math.sin(a)), (cx + 26 * math.cos(a), cy + 26 * math.sin(a))],
               col("#000000", 45), 3)
    p.circle(cx, cy, 9, "#EADFC9")
    p.circle(cx, cy, 9, None, darker(base, 0.25), 2)


def draw_planter(p):
    # leaves (behind pot)
    leaves = [(-68, 120, 34, MOSS), (-40, 160, 40, LEAF), (-14, 190, 40, FOREST_MID),
              (12, 176, 40, LEAF), (40, 150, 38, MOSS), (66, 118, 32, FOREST_MID),
              (-26, 130, 32, "#6F9A6B"), (26, 128, 32, "#6F9A6B")]
    for ang, length, width, c in leaves:
        bx, by = 240 + ang * 0.25, 252
        a = math.radians(ang)
        p.line([(240, 262), (bx + math.sin(a) * 30, by - math.cos(a) * 30)], MOSS, 4)
        pts = leaf_pts(bx + math.sin(a) * 26, by - math.cos(a) * 26, ang, length - 26, width)
        p.poly(pts, c)
        tip = (bx + math.sin(a) * length, by - math.cos(a) * length)
        p.line([(bx + math.sin(a) * 30, by - math.cos(a) * 30), tip], col(WHITE, 70), 2)
    # pot
    pot = [(162, 262), (318, 262), (300, GROUND - 12)] + ell_pts(268, GROUND - 12, 32, 12, 0, 90, 6) + \
        ell_pts(212, GROUND - 12, 32, 12, 90, 180, 6) + [(180, GROUND - 12)]
    p.poly(pot, "#EBE1D1")

    def glaze(l):
        l.poly(wave(140, 340, 330, 7, 90, 1.0) + [(340, 420), (140, 420)], TERRA)
        for y in range(280, GROUND, 16):
            l.line([(140, y), (340, y)], col("#000000", 18), 2, caps=False)
        l.rect((282, 240, 340, 420), col("#000000", 24))
        speckle(l, (160, 262, 320, 330), 30, "#9C8B73", 1, 2, 1013)
    p.masked(lambda m: m.poly(pot, 255), glaze)
    p.rect((152, 248, 328, 272), "#F4EDE2", r=10)
    p.rect((152, 264, 328, 272), col("#000000", 20), r=4)


def draw_candles(p):
    wax, wax_dk, wax_lt = HONEY, "#D49A3E", "#F3D08C"
    for cx, h in [(160, 196), (240, 246), (320, 170)]:
        base = GROUND
        # holder
        p.ellipse((cx - 48, base - 14, cx + 48, base + 2), darker(BRASS, 0.15))
        p.ellipse((cx - 48, base - 20, cx + 48, base - 4), BRASS)
        p.rect((cx - 9, base - 46, cx + 9, base - 12), darker(BRASS, 0.1))
        p.rect((cx - 24, base - 66, cx + 24, base - 42), BRASS, r=8)
        p.rect((cx - 24, base - 66, cx - 14, base - 42), col(WHITE, 60), r=4)
        # taper
        tb, tt = base - 62, base - 62 - h
        taper = [(cx - 13, tb), (cx - 9, tt + 6), (cx - 6, tt), (cx + 6, tt), (cx + 9, tt + 6), (cx + 13, tb)]
        p.poly(taper, wax)
        p.masked(lambda m: m.poly(taper, 255), lambda l: (
            l.rect((cx + 3, 0, cx + 20, 480), wax_dk),
            l.rect((cx - 9, 0, cx - 5, 480), wax_lt),
        ))
        p.line([(cx, tt), (cx + 1, tt - 10)], CHAR, 2.4)
        # flame + glow
        p.circle(cx, tt - 26, 26, col("#FFE9B0", 70))
        flame = cbez((cx, tt - 6), (cx - 16, tt - 14), (cx - 6, tt - 34), (cx + 1, tt - 48), 14) + \
            cbez((cx + 1, tt - 48), (cx + 8, tt - 34), (cx + 16, tt - 14), (cx, tt - 6), 14)[1:]
        p.poly(flame, "#F4B640")
        p.poly([(x * 0.55 + cx * 0.45, y * 0.6 + (tt - 8) * 0.4) for x, y in flame], "#FFF3C4")
    # a drip on the middle candle
    p.rect((226, 230, 234, 262), HONEY, r=4)


def draw_carafe(p):
    edge = "#8FB0B3"
    glass = col("#E3F0EF", 150)
    cx, neck_w, neck_top, shoulder, belly_w = 240, 58, 150, 236, 196
    bot, r = GROUND, 30
    left = [(cx - neck_w / 2, neck_top)] + \
        cbez((cx - neck_w / 2, shoulder - 40), (cx - neck_w / 2, shoulder),
             (cx - belly_w / 2, shoulder + 20), (cx - belly_w / 2, shoulder + 80), 20) + \
        ell_pts(cx - belly_w / 2 + r, bot - r, r, r, 180, 90, 10)
    body = left + [(2 * cx - x, y) for x, y in reversed(left)]
    # water, clipped to the body
    p.masked(lambda m: m.poly(body, 255), lambda l: (
        l.rect((100, 290, 380, 420), col("#A9D0D2", 200)),
        l.ellipse((cx - belly_w / 2, 282, cx + belly_w / 2, 298), col("#C8E3E4", 230)),
        l.rect((cx + 40, 0, 480, 480), col("#7FA9AD", 40)),
    ))
    p.poly(body, glass, edge, 4)
    # lip
    p.ellipse((cx - neck_w / 2 - 8, neck_top - 8, cx + neck_w / 2 + 8, neck_top + 8), col("#E3F0EF", 220), edge, 4)
    # tumbler upturned on top of the neck
    tum = [(cx - 32, 64), (cx + 32, 64), (cx + 44, 146), (cx - 44, 146)]
    p.poly(tum, col("#EEF6F5", 180), edge, 4)
    p.rect((cx - 34, 60, cx + 34, 76), col("#CFE3E3", 230), r=4)
    # highlights
    p.line(cbez((cx - 70, 290), (cx - 80, 320), (cx - 78, 350), (cx - 66, 372), 12), col(WHITE, 230), 7)
    p.line([(cx - 16, 168), (cx - 16, 214)], col(WHITE, 220), 5)
    p.line([(cx - 22, 86), (cx - 27, 134)], col(WHITE, 220), 5)
    # mint sprig in the water
    for ang, c in [(-30, LEAF), (25, MOSS), (0, "#6F9A6B")]:
        p.poly(leaf_pts(cx + 36, 352, ang, 34, 10), col(c, 200))


def draw_stool(p):
    wood, wood_dk = "#C49A6C", "#9A7048"
    top_y = 188

    def legs(dx, dy, c, cc):
        p.line([(150 + dx, GROUND + dy), (330 + dx, top_y + dy)], c, 18)
        p.line([(330 + dx, GROUND + dy), (150 + dx, top_y + dy)], c, 18)
        p.circle(240 + dx, (GROUND + top_y) / 2 + dy + 6, 7, cc)

    legs(22, -18, wood_dk, darker(BRASS, 0.2))
    p.line([(160, GROUND - 24), (184, GROUND - 42)], wood_dk, 8)
    p.line([(320, GROUND - 24), (344, GROUND - 42)], wood_dk, 8)
    # canvas sling
    sling = qbez((136, top_y - 14), (240, top_y + 22), (346, top_y - 14)) + \
        qbez((346, top_y + 18), (240, top_y + 54), (136, top_y + 18))
    p.poly(sling, FOREST)
    p.masked(lambda m: m.poly(sling, 255), lambda l: (
        l.poly(qbez((130, top_y + 2), (240, top_y + 38), (350, top_y + 2)) +
               qbez((350, top_y + 8), (240, top_y + 44), (130, top_y + 8)), OCHRE),
        l.rect((0, top_y - 20, 480, top_y - 6), col(WHITE, 30)),
    ))
    legs(0, 0, wood, BRASS)
    for x in (136, 346):
        p.circle(x, top_y + 2, 15, wood_dk)
        p.circle(x, top_y + 2, 6, BRASS)


PRODUCTS = [
    # code, name, category, drawer, shadow width (None = no shadow)
    ("FH-1001", "Stoneware Pour-Over Coffee Set", "Kitchen", draw_pour_over, 330),
    ("FH-1002", "Cast Iron Skillet", "Kitchen", draw_skillet, 300),
    ("FH-1003", "Linen Tea Towels", "Kitchen", draw_tea_towels, None),
    ("FH-1004", "Olive Wood Cutting Board", "Kitchen", draw_cutting_board, 320),
    ("FH-1005", "Merino Camp Blanket", "Outdoor", draw_blanket, 320),
    ("FH-1006", "Enamel Camp Mug", "Outdoor", draw_camp_mug, 220),
    ("FH-1007", "Waxed Canvas Daypack", "Outdoor", draw_daypack, 270),
    ("FH-1008", "Insulated Steel Bottle", "Outdoor", draw_bottles, 240),
    ("FH-1009", "Linen Waffle Bath Towel", "Bath", draw_bath_towels, 340),
    ("FH-1010", "Cedar Bath Soap Set", "Bath", draw_soaps, 320),
    ("FH-1011", "Ceramic Table Lamp", "Home", draw_lamp, 180),
    ("FH-1012", "Wool Throw Pillow", "Home", draw_pillow, 280),
    ("FH-1013", "Hand-thrown Planter", "Home", draw_planter, 200),
    ("FH-1014", "Beeswax Taper Candles", "Home", draw_candles, 300),
    ("FH-1015", "Glass Carafe", "Kitchen", draw_carafe, 200),
    ("FH-1016", "Folding Camp Stool", "Outdoor", draw_stool, 260),
]

TILE_COLOURS = {
    "Kitchen": ("#F6E7DA", "#FBF1E8"),
    "Outdoor": ("#E1EADB", "#EDF3E8"),
    "Bath": ("#DCE7EA", "#EAF1F3"),
    "Home": ("#F4EBD3", "#FAF4E4"),
}

# tile-only backdrops (not part of the object, so not reused in hero scenes)
BACKDROPS = {
    "FH-1011": lambda p: p.glow(240, 165, 240, "#FFF6DE", 170),
}

_object_cache: dict[str, Image.Image] = {}


def product_object(code):
    """The bare product drawing (transparent background) at supersampled 480."""
    if code not in _object_cache:
        drawer = next(d for c, _, _, d, _ in PRODUCTS if c == code)
        pen = Pen(480, 480)
        drawer(pen)
        _object_cache[code] = pen.img
    return _object_cache[code]


def render_product(code, category, shadow_w):
    tile, halo = TILE_COLOURS[category]
    # Drawn on the tile's own colour, so that no light edge is left where the
    # corners fade to transparent (they show the email's background, dark or not).
    p = Pen(480, 480, tile)
    p.rect((0, 0, 480, 480), tile, r=CARD_RADIUS)
    p.circle(240, 236, 176, halo)
    if code in BACKDROPS:
        BACKDROPS[code](p)
    if shadow_w:
        p.ellipse((240 - shadow_w / 2, GROUND - 9, 240 + shadow_w / 2, GROUND + 11), col("#000000", 22))
    p.img.alpha_composite(product_object(code))
    corners = Pen(480, 480, 0, mode="L")
    corners.d.rounded_rectangle(corners._box((0, 0, 480, 480)), radius=CARD_RADIUS * SS, fill=255)
    img = p.output().convert("RGB")
    img.putalpha(corners.output())
    return img


# ===========================================================================
# Logo
# ===========================================================================

FONT_CANDIDATES = [
    "/usr/share/fonts/truetype/dejavu/DejaVuSerif.ttf",
    "/usr/share/fonts/truetype/liberation/LiberationSerif-Regular.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
]


def load_font(size):
    for f in FONT_CANDIDATES:
        if Path(f).exists():
            return ImageFont.truetype(f, size)
    for f in sorted(Path("/usr/share/fonts").rglob("*.ttf")):
        try:
            return ImageFont.truetype(str(f), size)
        except OSError:
            continue
    return ImageFont.load_default(size)


def draw_fern_mark(p, x, y, s, colour):
    """Fern frond inside a s x s box at (x, y)."""
    stem = qbez((x + s * 0.36, y + s * 0.99), (x + s * 0.40, y + s * 0.45), (x + s * 0.70, y + s * 0.03), 30)
    p.line(stem, colour, s * 0.045)
    n = 7
    for i in range(n):
        t = 0.12 + i * 0.8 / n
        idx = int(t * 30)
        bx, by = stem[idx]
        nx, ny = stem[min(idx + 1, 30)]
        ang = math.degrees(math.atan2(nx - bx, -(ny - by)))
        length = s * (0.34 - i * 0.036)
        width = length * 0.3
        p.poly(leaf_pts(bx, by, ang - 58, length, width), colour)
        p.poly(leaf_pts(bx, by, ang + 58, length, width), colour)
    p.poly(leaf_pts(stem[-5][0], stem[-5][1], 32, s * 0.16, s * 0.05), colour)


def render_logo(colour):
    W, H = 360, 80
    p = Pen(W, H)
    draw_fern_mark(p, 6, 8, 64, colour)
    text = "FERNHILL"
    tracking = 0.16
    size = 40
    font = load_font(size * p.ss)
    # fit width
    avail = W - 80 - 6
    while True:
        widths = [font.getlength(ch) for ch in text]
        total = sum(widths) + tracking * size * p.ss * (len(text) - 1)
        if total <= avail * p.ss or size <= 12:
            break
        size -= 1
        font = load_font(size * p.ss)
    ascent_box = font.getbbox("H")
    cap_h = ascent_box[3] - ascent_box[1]
    y = (H * p.ss - cap_h) / 2 - ascent_box[1]
    x = 80 * p.ss
    for ch, wch in zip(text, widths):
        p.d.text((x, y), ch, font=font, fill=col(colour))
        x += wch + tracking * size * p.ss
    return p.output()


# ===========================================================================
# Hero scenes (1200x600, no text)
# ===========================================================================

def paste_product(h, code, cx, base, size, shadow_w=None, flip=False):
    k = size / 480
    if shadow_w:
        h.ellipse((cx - shadow_w / 2, base - 6 * k - 3, cx + shadow_w / 2, base + 8 * k + 3), col("#000000", 24))
    h.place(product_object(code), cx - size / 2, base - GROUND * k, size, size, flip)


def pine(h, x, base, height, c):
    w = height * 0.42
    for i in range(3):
        ty = base - height + i * height * 0.24
        bw = w * (0.55 + i * 0.25)
        h.poly([(x, ty), (x + bw / 2, ty + height * 0.42), (x - bw / 2, ty + height * 0.42)], c)
    h.rect((x - height * 0.03, base - height * 0.1, x + height * 0.03, base), darker(c, 0.3))


def books(h, x, base, spec):
    """Upright books: spec = [(width, height, colour), ...]."""
    for wdt, hgt, c in spec:
        h.rect((x, base - hgt, x + wdt, base), c, r=2)
        h.rect((x + 3, base - hgt + 12, x + wdt - 3, base - hgt + 16), col(WHITE, 90))
        h.rect((x + 3, base - 22, x + wdt - 3, base - 18), col(WHITE, 90))
        x += wdt + 2
    return x


def hero_welcome():
    h = Pen(1200, 600, SAND)
    # sunlight falling through window
    h.poly([(440, 70), (560, 70), (1000, 440), (740, 440)], col(WHITE, 70))
    # arched window
    def win_shape(m, g=0):
        m.rect((130 - g, 220, 430 + g, 400 + g), 255 if m.mode == "L" else "#FBF8F2")
        m.ellipse((130 - g, 70 - g, 430 + g, 370 + g), 255 if m.mode == "L" else "#FBF8F2")
    win_shape(h, 14)

    def view(l):
        l.rect((0, 0, 1200, 600), "#DCE8E2")
        l.circle(360, 190, 34, "#F6E2C0")
        l.poly(qbez((100, 300), (250, 220), (460, 290)) + [(460, 420), (100, 420)], "#B5C8AE")
        l.poly(qbez((100, 340), (300, 270), (460, 330)) + [(460, 420), (100, 420)], "#8DA888")
        for x, s in [(170, 60), (196, 44), (400, 52)]:
            pine(l, x, 340, s, MOSS)
        l.poly(qbez((100, 370), (260, 330), (460, 380)) + [(460, 420), (100, 420)], "#5E7F58")
    h.masked(win_shape, view)
    h.line([(280, 62), (280, 400)], "#FBF8F2", 9)
    h.line([(130, 240), (430, 240)], "#FBF8F2", 9)
    h.rect((104, 396, 456, 414), "#E6DCCB", r=4)
    # pendant lamp
    h.line([(800, 0), (800, 96)], CHAR, 3)
    h.pie((720, 90, 880, 250), 180, 360, FOREST)
    h.ellipse((720, 160, 880, 180), darker(FOREST, 0.2))
    h.circle(800, 176, 13, "#F6D58E")
    h.rect((790, 84, 810, 100), BRASS, r=3)
    # framed art (abstract leaf)
    h.rect((560, 120, 680, 270), WOOD_LT)
    h.rect((570, 130, 670, 260), CREAM)
    h.poly(leaf_pts(620, 240, 15, 90, 26), SAGE)
    h.line([(620, 240), (643, 155)], CREAM, 2)
    # table
    h.rect((0, 440, 1200, 600), "#E4D9C6")
    h.rect((0, 430, 1200, 452), WOOD_LT)
    h.rect((0, 452, 1200, 474), WOOD)
    h.rect((0, 474, 1200, 480), col("#000000", 25))
    for x in (70, 1100):
        h.rect((x, 474, x + 30, 600), WOOD_DK)
    # objects
    h.ellipse((330, 424, 540, 440), col("#000000", 22))
    h.rect((340, 406, 530, 432), "#DCE3D6", r=3)
    h.rect((340, 406, 352, 432), SAGE, r=3)
    h.rect((350, 382, 522, 408), TERRA, r=3)
    h.rect((350, 386, 522, 404), None, outline=col(WHITE, 80), width=1.5)
    h.rect((360, 362, 510, 384), OCHRE, r=3)
    paste_product(h, "FH-1006", 430, 366, 130)
    paste_product(h, "FH-1001", 660, 432, 230, shadow_w=160)
    paste_product(h, "FH-1013", 950, 432, 360, shadow_w=110)
    return h


def trailing_plant(h, cx, base):
    pot = [(cx - 46, base - 66), (cx + 46, base - 66), (cx + 36, base), (cx - 36, base)]
    rng = random.Random(cx)
    for j, (sx, ex, ey) in enumerate([(-30, -60, 170), (-10, -20, 230), (14, 30, 200), (34, 70, 150)]):
        pts = cbez((cx + sx, base - 60), (cx + sx * 2, base - 20), (cx + ex, base + ey * 0.5), (cx + ex, base + ey), 24)
        h.line(pts, MOSS, 2.5)
        for i in range(3, 24, 3):
            x, y = pts[i]
            h.poly(leaf_pts(x, y, rng.choice([-70, 70, 120, -120]), 20, 9), LEAF if i % 2 else FOREST_MID)
    for ang in (-40, -15, 10, 35):
        h.poly(leaf_pts(cx + ang * 0.6, base - 64, ang, 50, 16), LEAF if ang % 2 else MOSS)
    h.poly(pot, "#EDE3D3")
    h.rect((cx - 50, base - 72, cx + 50, base - 60), "#F6EFE4", r=4)


def shelf(h, x0, x1, y):
    h.rect((x0, y, x1, y + 8), WOOD_LT)
    h.rect((x0, y + 8, x1, y + 26), WOOD)
    h.rect((x0 + 10, y + 26, x1 - 10, y + 34), col("#000000", 18))


def hero_newsletter():
    h = Pen(1200, 600, "#E3EADF")
    h.circle(600, 300, 360, "#EAF0E6")
    # top shelf
    y1, y2 = 236, 468
    books(h, 190, y1, [(22, 140, FOREST), (26, 152, TERRA), (18, 128, SAND), (24, 146, OCHRE),
                       (20, 134, SAGE), (28, 150, CHAR)])
    h.group(lambda l: books(l, 352, y1, [(24, 138, CLAY)]), angle=14, center=(376, y1))
    paste_product(h, "FH-1013", 490, y1, 230)
    paste_product(h, "FH-1014", 690, y1, 220)
    paste_product(h, "FH-1015", 980, y1, 200)
    shelf(h, 150, 1050, y1)
    trailing_plant(h, 840, y1)
    # bottom shelf
    paste_product(h, "FH-1011", 270, y2, 270)
    paste_product(h, "FH-1010", 480, y2, 200)
    # bowl with lemons
    for lx, ly in [(636, y2 - 52), (666, y2 - 58), (696, y2 - 50)]:
        h.circle(lx, ly, 20, "#F0C44C")
    h.chord((596, y2 - 90, 736, y2 + 10), 0, 180, "#D9CFC0")
    h.chord((596, y2 - 90, 736, y2 + 10), 0, 180, None)
    h.rect((640, y2 - 8, 692, y2), "#C6BBAA", r=3)
    paste_product(h, "FH-1006", 800, y2, 140)
    paste_product(h, "FH-1008", 940, y2, 240)
    shelf(h, 150, 1050, y2)
    return h


def hero_cart():
    h = Pen(1200, 600, "#F2E5D9")
    h.rect((0, 500, 1200, 600), "#D6BE9E")
    for x in range(-40, 1240, 150):
        h.line([(x, 500), (x - 60, 600)], col("#000000", 18), 2, caps=False)
    h.rect((0, 496, 1200, 506), "#E9DCC9")
    # arch niche behind basket
    h.rect((420, 170, 780, 500), "#EAD7C6")
    h.ellipse((420, -10, 780, 350), "#EAD7C6")
    # plant left, stool right
    paste_product(h, "FH-1013", 200, 502, 440, shadow_w=150)
    paste_product(h, "FH-1016", 990, 502, 300, shadow_w=200)
    h.rect((920, 340, 1060, 372), "#E4AA8C", r=14)
    h.rect((926, 312, 1054, 344), OAT, r=14)
    h.rect((920, 340, 1060, 372), None, r=14, outline=col("#000000", 30), width=1.5)
    # basket
    cx, top, base = 600, 352, 500
    h.ellipse((cx - 210, base - 10, cx + 210, base + 14), col("#000000", 26))
    h.ellipse((cx - 168, top - 18, cx + 168, top + 18), "#8C6239")
    h.arc((cx - 150, top - 190, cx + 150, top + 190), 180, 360, "#A97A48", 16)
    # contents
    paste_product(h, "FH-1008", cx - 70, top + 70, 300)
    for i, (x, hgt) in enumerate([(cx + 70, 150), (cx + 88, 176), (cx + 106, 140)]):
        h.rect((x - 8, top - hgt, x + 8, top + 20), HONEY, r=3)
        h.rect((x + 2, top - hgt + 4, x + 8, top + 20), "#D49A3E")
        h.line([(x, top - hgt), (x, top - hgt - 8)], CHAR, 2)
    h.rect((cx + 58, top - 40, cx + 118, top - 32), TERRA)
    for ang in (-30, -8, 14):
        h.poly(leaf_pts(cx - 130, top + 10, ang, 150, 26), MOSS if ang else LEAF)
    for rx_, c in [(cx + 5, "#E4AA8C"), (cx - 130, OAT)]:
        h.circle(rx_ + 4, top - 26, 36, darker(c, 0.14))
        for r in range(34, 0, -8):
            h.circle(rx_ + 2, top - 26, r, c if (r // 8) % 2 else darker(c, 0.1))
    # basket body
    body = [(cx - 176, top), (cx + 176, top), (cx + 150, base - 18)] + \
        ell_pts(cx + 120, base - 18, 30, 18, 0, 90, 6) + ell_pts(cx - 120, base - 18, 30, 18, 90, 180, 6)

    def weave(l):
        l.rect((0, 0, 1200, 600), "#C69A64")
        for row, y in enumerate(range(top, base + 10, 22)):
            off = 0 if row % 2 else 24
            for x in range(cx - 200 + off, cx + 200, 48):
                l.rect((x, y + 3, x + 40, y + 19), "#D8B27C", r=8)
        l.rect((cx + 90, 0, 1200, 600), col("#000000", 24))
    h.masked(lambda m: m.poly(body, 255), weave)
    h.rect((cx - 184, top - 12, cx + 184, top + 14), "#A97A48", r=13)
    for x in range(cx - 176, cx + 180, 14):
        h.line([(x, top - 10), (x + 10, top + 12)], "#8C6239", 3, caps=False)
    # tea towel draped over the front rim
    towel = (cx - 86, top - 6, cx - 6, top + 104)
    h.rect(towel, OAT, r=6)
    h.masked(lambda m: m.rect(towel, 255, r=6), lambda l: (
        l.rect((0, top + 70, 1200, top + 78), TERRA),
        l.rect((0, top + 84, 1200, top + 87), TERRA),
        l.rect((0, top + 91, 1200, top + 94), FOREST),
        l.rect((cx - 30, 0, 1200, 600), col("#000000", 18)),
    ))
    h.rect((cx - 90, top - 14, cx - 2, top + 10), "#F4EDE0", r=10)
    return h


def hero_browse():
    h = Pen(1200, 600, "#F5EBDD")
    # sun + sky bands
    for r, c in [(150, "#F7E4CF"), (110, "#F5D9BD"), (70, "#F0C39E")]:
        h.circle(820, 210, r, c)
    for (bx, by) in [(260, 110), (300, 130), (960, 90)]:
        h.line([(bx - 12, by - 6), (bx, by), (bx + 12, by - 6)], col(CHAR, 140), 2.4)
    # mountains
    h.poly([(0, 330), (180, 180), (330, 300), (520, 140), (760, 330), (0, 330)], "#C9D3C2")
    h.poly([(560, 340), (860, 160), (1200, 320), (1200, 340)], "#BCC9B5")
    h.poly([(520, 140), (560, 172), (530, 168), (508, 180), (486, 168)], "#F3EDE2")
    h.poly([(860, 160), (900, 184), (874, 182), (852, 196), (830, 178)], "#F3EDE2")
    h.poly(qbez((0, 360), (400, 240), (800, 350)) + qbez((800, 350), (1000, 290), (1200, 340))[1:] +
           [(1200, 600), (0, 600)], "#A3B79E")
    rng = random.Random(1200)
    for x in list(range(30, 460, 34)) + list(range(880, 1200, 30)):
        pine(h, x + rng.uniform(-8, 8), 376 + rng.uniform(-20, 10), rng.uniform(60, 110),
             FOREST_MID if rng.random() < 0.5 else MOSS)
    # lake
    h.poly(qbez((380, 420), (700, 390), (1000, 425)) + qbez((1000, 425), (700, 450), (380, 420))[1:], "#C7DAD6")
    # meadow
    h.poly(qbez((0, 440), (600, 400), (1200, 450)) + [(1200, 600), (0, 600)], "#8DA888")
    h.poly(qbez((0, 520), (500, 470), (1200, 530)) + [(1200, 600), (0, 600)], "#7E9C7B")
    # tent
    tx, tb = 850, 500
    h.ellipse((tx - 190, tb - 8, tx + 200, tb + 14), col("#000000", 24))
    h.poly([(tx - 170, tb), (tx, tb - 200), (tx + 40, tb - 200), (tx + 200, tb)], darker(TERRA, 0.15))
    h.poly([(tx - 170, tb), (tx, tb - 200), (tx + 120, tb)], TERRA)
    h.poly([(tx - 60, tb), (tx, tb - 130), (tx + 50, tb)], "#5E2E1B")
    h.poly([(tx - 60, tb), (tx, tb - 130), (tx - 40, tb)], "#E08A62")
    h.line([(tx, tb - 200), (tx - 8, tb - 222)], CHAR, 3)
    h.line([(tx - 170, tb), (tx - 220, tb + 6)], col(CHAR, 120), 1.5)
    h.line([(tx + 40, tb - 200), (tx + 250, tb + 4)], col(CHAR, 120), 1.5)
    # campfire
    fx, fb = 560, 508
    h.ellipse((fx - 80, fb - 12, fx + 80, fb + 14), col("#000000", 26))
    for dx in (-60, -30, 0, 30, 60):
        h.ellipse((fx + dx - 18, fb - 14, fx + dx + 18, fb + 8), "#9C968C")
    h.line([(fx - 60, fb - 4), (fx + 50, fb - 28)], WOOD_DK, 16)
    h.line([(fx + 60, fb - 4), (fx - 50, fb - 28)], darker(WOOD_DK, 0.15), 16)
    for sc, c in [(1.0, "#E07B45"), (0.72, "#F2B134"), (0.42, "#FCE6A8")]:
        flame = cbez((fx - 44 * sc, fb - 18), (fx - 54 * sc, fb - 70 * sc), (fx - 6, fb - 90 * sc), (fx + 4, fb - 130 * sc), 16) + \
            cbez((fx + 4, fb - 130 * sc), (fx + 12, fb - 90 * sc), (fx + 60 * sc, fb - 70 * sc), (fx + 44 * sc, fb - 18), 16)[1:]
        h.poly(flame, c)
    # gear
    paste_product(h, "FH-1016", 360, 520, 200, shadow_w=130)
    paste_product(h, "FH-1006", 448, 540, 90, shadow_w=60)
    paste_product(h, "FH-1007", 1090, 516, 200, shadow_w=120)
    paste_product(h, "FH-1005", 200, 560, 210, shadow_w=150)
    return h


def hero_winback():
    wall, floor = "#2C4A38", "#5E4433"
    h = Pen(1200, 600, wall)
    h.rect((0, 490, 1200, 600), floor)
    h.rect((0, 482, 1200, 492), "#24402F")
    # window (dusk)
    wx0, wy0, wx1, wy1 = 800, 70, 1090, 380
    h.rect((wx0 - 14, wy0 - 14, wx1 + 14, wy1 + 14), SAND)

    def dusk(l):
        for i, c in enumerate(["#8E9FA8", "#B7A7A0", "#D9AE92", "#EDC29A"]):
            l.rect((wx0, wy0 + i * 62, wx1, wy0 + (i + 1) * 62 + 2), c)
        l.rect((wx0, wy0 + 248, wx1, wy1), "#EDC29A")
        l.circle(1000, 140, 22, "#FBF3E2")
        l.poly(qbez((wx0, 320), (900, 270), (wx1, 310)) + [(wx1, wy1), (wx0, wy1)], "#3E5E49")
        for x in range(wx0 + 10, wx1, 26):
            pine(l, x, 350, 50 + (x * 7) % 30, "#2C4A38")
    h.masked(lambda m: m.rect((wx0, wy0, wx1, wy1), 255), dusk)
    h.line([(945, wy0), (945, wy1)], SAND, 8, caps=False)
    h.line([(wx0, 225), (wx1, 225)], SAND, 8, caps=False)
    h.rect((wx0 - 26, wy1 + 8, wx1 + 26, wy1 + 24), "#E6DCCB", r=3)
    # lamp glow
    h.glow(250, 240, 340, "#F6D58E", 70)
    h.glow(250, 210, 150, "#FCE7B5", 80)
    # rug
    h.ellipse((240, 500, 980, 590), "#B5583A")
    h.ellipse((266, 510, 954, 580), None, col(SAND, 140), 3)
    # side table + lamp
    h.rect((244, 380, 258, 510), WOOD_DK)
    h.ellipse((180, 372, 320, 392), WOOD)
    h.rect((196, 500, 306, 510), WOOD_DK, r=4)
    paste_product(h, "FH-1011", 250, 384, 280)
    # armchair
    c, c_dk, c_lt = "#C9B89A", "#B09E80", "#D9CBB1"
    for x in (470, 750):
        h.rect((x, 476, x + 12, 512), WOOD_DK, r=3)
    h.rect((450, 230, 790, 470), c_dk, r=70)
    h.rect((470, 250, 770, 440), c, r=60)
    h.rect((440, 400, 800, 490), c_dk, r=26)
    h.rect((470, 390, 770, 450), c_lt, r=22)
    h.rect((410, 340, 500, 492), c, r=36)
    h.rect((740, 340, 830, 492), c, r=36)
    paste_product(h, "FH-1012", 610, 420, 220)
    # throw draped over the right arm
    throw = [(740, 330), (840, 330), (846, 470), (800, 490), (760, 480)]
    h.poly(throw, "#E9DFCC")
    h.masked(lambda m: m.poly(throw, 255), lambda l: [
        l.rect((760 + i * 24, 300, 770 + i * 24, 500), col(FOREST, 140)) for i in range(4)] + [
        l.rect((700, 466, 900, 472), TERRA)])
    h.rect((732, 320, 848, 348), "#F3ECDD", r=13)
    h.rect((732, 340, 848, 348), col("#000000", 25), r=4)
    # plant by the window
    paste_product(h, "FH-1013", 960, 540, 300, shadow_w=120)
    # mug on the floor by the chair + books
    h.rect((330, 520, 430, 536), TERRA, r=2)
    h.rect((336, 506, 424, 520), SAND, r=2)
    paste_product(h, "FH-1006", 380, 508, 80)
    return h


HEROES = {
    "welcome": hero_welcome,
    "newsletter": hero_newsletter,
    "cart": hero_cart,
    "browse": hero_browse,
    "winback": hero_winback,
}


# ===========================================================================
# Output
# ===========================================================================

def png_bytes(img: Image.Image, limit: int, colours=(128, 96, 64, 48, 32, 24, 16)) -> bytes:
    """Quantise (no dithering) with the most colours that fit under `limit`.

    An RGBA image (a product tile with transparent corners) is quantised on its
    colours; one more palette entry is transparent, used where it is mostly so.
    """
    data = b""
    rgb = img.convert("RGB")
    clear = img.getchannel("A").point(lambda a: 255 if a < 128 else 0) if img.mode == "RGBA" else None
    for n in colours:
        q = rgb.quantize(colors=n - (clear is not None), method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE)
        if clear is not None:
            index = len(q.getpalette()) // 3
            q.putpalette(q.getpalette() + [0, 0, 0])
            q.paste(index, mask=clear)
            q.info["transparency"] = index
        buf = io.BytesIO()
        q.save(buf, "PNG", optimize=True, **({"transparency": q.info["transparency"]} if clear is not None else {}))
        data = buf.getvalue()
        if len(data) <= limit:
            break
    return data


def rgba_png_bytes(img: Image.Image) -> bytes:
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


def write(path: Path, data: bytes, written: list):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    written.append((path, len(data)))


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--out", type=Path, default=Path(__file__).resolve().parent.parent,
                    help="root directory to write assets/ into (default: repo root)")
    args = ap.parse_args(argv)
    root = args.out / "assets"
    written: list = []

    for code, _name, category, _drawer, shadow in PRODUCTS:
        img = render_product(code, category, shadow)
        write(root / "products" / f"{code}.png", png_bytes(img, 24 * 1024), written)

    write(root / "brand" / "logo.png", rgba_png_bytes(render_logo(FOREST)), written)
    write(root / "brand" / "logo-light.png", rgba_png_bytes(render_logo(SAND)), written)

    for name, fn in HEROES.items():
        img = fn().output().convert("RGB")
        write(root / "hero" / f"{name}.png", png_bytes(img, 78 * 1024, (192, 160, 128, 96, 64, 48)), written)

    for path, size in written:
        print(f"{size / 1024:7.1f} KB  {path.relative_to(args.out)}")


if __name__ == "__main__":
    main()
