"""Synthetic attacks from live images (image level), and their 2.7/4.0 crops."""
import numpy as np, io
from PIL import Image, ImageFilter
from imgcrop import *

def _gauss_blur(img, sigma):
    if sigma <= 0: return img
    return np.asarray(Image.fromarray(np.clip(img,0,255).astype(np.uint8)).filter(ImageFilter.GaussianBlur(sigma))).astype(np.float32)

def _jpeg(img, q):
    b = io.BytesIO(); Image.fromarray(np.clip(img,0,255).astype(np.uint8)).save(b, 'JPEG', quality=int(q))
    return np.asarray(Image.open(b).convert('RGB')).astype(np.float32)

def _resize(img, w, h):
    return np.asarray(Image.fromarray(np.clip(img,0,255).astype(np.uint8)).resize((max(1,int(w)), max(1,int(h))), Image.BILINEAR)).astype(np.float32)

def _grid(H, W, period, angle, phase):
    yy, xx = np.mgrid[0:H, 0:W].astype(np.float32)
    u = xx * np.cos(angle) + yy * np.sin(angle)
    v = -xx * np.sin(angle) + yy * np.cos(angle)
    return u / period + phase[0], v / period + phase[1]

def screen(img, box, rng):
    """Screen replay: the image shown on an RGB-stripe pixel grid, recaptured (moire), gamma/
    gamut/white-point shift, glare, blur, noise."""
    im = img.astype(np.float32) / 255.0
    H, W = im.shape[:2]
    # display gamut / tone: gamma, contrast, blue-ish white point
    g = rng.uniform(0.7, 1.4)
    im = im ** g
    wp = np.array([rng.uniform(0.85, 1.0), rng.uniform(0.9, 1.0), rng.uniform(0.95, 1.1)])
    sat = rng.uniform(0.9, 1.3)
    grey = im.mean(2, keepdims=True)
    im = np.clip(grey + sat * (im - grey), 0, 1) * wp
    # sub-pixel stripe grid seen slightly rotated: moire after resampling
    period = rng.uniform(1.5, 4.0)
    u, v = _grid(H, W, period, rng.uniform(-0.2, 0.2), rng.uniform(0, 1, 2))
    depth = rng.uniform(0.15, 0.45)
    sub = np.stack([np.cos(2*np.pi*(u - k/3.0)) for k in range(3)], -1)
    rows = np.cos(2*np.pi*v)[..., None]
    mask = 1 - depth * (0.5 - 0.5 * sub * 0.7 - 0.3 * rows) 
    im = im * mask
    # glare: soft elliptical highlight
    if rng.random() < 0.6:
        cx, cy = rng.uniform(0, W), rng.uniform(0, H)
        r = rng.uniform(0.2, 0.6) * max(H, W)
        yy, xx = np.mgrid[0:H, 0:W]
        gl = np.exp(-(((xx-cx)**2 + (yy-cy)**2) / (2*r*r))) * rng.uniform(0.1, 0.4)
        im = im + gl[..., None]
    # black level lift (backlight)
    im = im * rng.uniform(0.8, 1.0) + rng.uniform(0.02, 0.1)
    im = np.clip(im, 0, 1) * 255
    im = _gauss_blur(im, rng.uniform(0, 1.0))
    im = im + rng.normal(0, rng.uniform(1, 5), im.shape)
    return np.clip(im, 0, 255), box

def printed(img, box, rng):
    """Print attack: halftone dots, paper texture, desaturation, compressed dynamic range."""
    im = img.astype(np.float32) / 255.0
    H, W = im.shape[:2]
    sat = rng.uniform(0.4, 0.9)
    grey = im.mean(2, keepdims=True)
    im = grey + sat * (im - grey)
    lo, hi = rng.uniform(0.05, 0.2), rng.uniform(0.75, 0.95)
    im = lo + (hi - lo) * im
    # warm paper tint
    im = im * np.array([1.0, rng.uniform(0.95, 1.0), rng.uniform(0.85, 0.97)])
    # halftone: per-channel rotated screens, ink coverage = 1 - value
    period = rng.uniform(1.8, 4.5)
    out = np.empty_like(im)
    for k, ang in enumerate((0.26, 1.31, 0.79)):
        u, v = _grid(H, W, period, ang + rng.uniform(-0.05, 0.05), rng.uniform(0, 1, 2))
        dot = 0.5 + 0.25 * (np.cos(2*np.pi*u) + np.cos(2*np.pi*v))  # 0..1
        soft = rng.uniform(0.05, 0.2)
        ink = 1 - im[..., k]
        out[..., k] = 1 - 1 / (1 + np.exp(-(ink - dot) / soft))
    mix = rng.uniform(0.3, 0.8)
    im = mix * out + (1 - mix) * im
    # paper texture: low-frequency shading + fine grain
    sh = _resize(rng.normal(0, 1, (6, 6, 1)).repeat(3, 2) * 20 + 128, W, H) / 128.0
    im = im * (1 + rng.uniform(0.02, 0.1) * (sh - 1))
    im = im + rng.normal(0, rng.uniform(0.005, 0.03), (H, W, 1))
    im = np.clip(im, 0, 1) * 255
    im = _gauss_blur(im, rng.uniform(0.3, 1.2))
    return np.clip(im, 0, 255), box

def framed(img, box, rng, bg):
    """The (screen or print) attack held in front of the camera: shrunk inside a bezel/border
    on top of another scene, so the wide crop sees its edges."""
    kind = rng.random()
    att, _ = (screen if kind < 0.5 else printed)(img, box, rng)
    H, W = img.shape[:2]
    f = rng.uniform(0.45, 0.8)
    aw, ah = max(8, int(W * f)), max(8, int(H * f))
    att = _resize(att, aw, ah)
    canvas = _resize(bg, W, H)
    canvas = _gauss_blur(canvas, rng.uniform(0, 2))
    bz = max(1, int(rng.uniform(0.02, 0.08) * max(aw, ah)))
    x0 = int(rng.uniform(0, max(1, W - aw - 2*bz))); y0 = int(rng.uniform(0, max(1, H - ah - 2*bz)))
    col = np.array([rng.uniform(0, 40)] * 3) if kind < 0.5 else np.array([rng.uniform(200, 250)] * 3)
    canvas[y0:y0+ah+2*bz, x0:x0+aw+2*bz] = col
    canvas[y0+bz:y0+bz+ah, x0+bz:x0+bz+aw] = att[:min(ah, H-y0-bz), :min(aw, W-x0-bz)] if (y0+bz+ah<=H and x0+bz+aw<=W) else canvas[y0+bz:y0+bz+ah, x0+bz:x0+bz+aw]
    nb = [x0 + bz + box[0] * aw / W, y0 + bz + box[1] * ah / H, box[2] * aw / W, box[3] * ah / H]
    return canvas, nb

def recapture(img, box, rng):
    """Low-quality recapture: downscale/upscale, blur, JPEG, colour cast, with faint moire."""
    im, box = screen(img, box, rng) if rng.random() < 0.5 else printed(img, box, rng)
    H, W = im.shape[:2]
    f = rng.uniform(0.35, 0.7)
    im = _resize(_resize(im, W * f, H * f), W, H)
    im = _jpeg(im, rng.uniform(30, 75))
    return im, box

def live_aug(img, box, rng):
    """Mild live augmentation: exposure, gamma, slight blur, JPEG."""
    im = img.astype(np.float32) / 255.0
    im = np.clip(im * rng.uniform(0.75, 1.25), 0, 1) ** rng.uniform(0.8, 1.25)
    im = _gauss_blur(im * 255, rng.uniform(0, 0.7))
    im = _jpeg(im, rng.uniform(60, 95))
    return im, box

KINDS = {'screen': screen, 'print': printed, 'recapture': recapture}
