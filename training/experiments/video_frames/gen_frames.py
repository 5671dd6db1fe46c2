"""Frames of the test data's selfie videos as extra training samples (issue #10).

    python gen_frames.py [FRAMES_PER_VIDEO]

The stills come from 2,720 photos of ten sources; the videos add three more people, phones
and rooms (two of them with a replay of the same person) and more frames of two `extra/`
sources. Each video's frames are cut evenly over its length with ffmpeg (which applies the
container's rotation, as the service's decoder does), cropped by the service itself
(`livegate crops`, so the face box, pick and context crops are production's), and their
1,024 taps cached as `frames_<n>.npz` (features `x`, `live`, LOSO `source`, `video`; the
three new people's videos alone as `frames_<n>_new.npz`, their live ones as `_newlive`).
Frames of an `extra/` source's video belong to that source and leave its fold with it; the
other videos are sources of their own that no fold holds out (they are not scored: a few
dozen frames of one take say little about a source).
"""
import csv
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tight_chips"))

from common import *  # noqa: E402,F403

# (video under the test data, LOSO source of its frames)
VIDEOS = [
    ("videos/lestari15_real.mp4", "video:lestari15"),
    ("spoof/lestari15_fake_replay.mp4", "video:lestari15"),
    ("videos/tranvanluyt_real.mp4", "video:tranvanluyt"),
    ("spoof/tranvanluyt_fake_replay.mp4", "video:tranvanluyt"),
    ("videos/blinkdetector_selfie_blinks.mp4", "video:blinkdetector"),
    ("extra/Apfol+liveness-detection-opencv/videos_real2.webm", "Apfol+liveness-detection-opencv"),
    ("extra/Apfol+liveness-detection-opencv/videos_fake2.webm", "Apfol+liveness-detection-opencv"),
    ("extra/WOLF-huo+face_liveness/videos_eff17845a21796d55db31abd0579ac76.mp4", "WOLF-huo+face_liveness"),
    ("extra/WOLF-huo+face_liveness/videos_089ebaf677f4790cae56915cb67a1fa3.mp4", "WOLF-huo+face_liveness"),
]


def labels():
    with open(os.path.join(TD, "MANIFEST.tsv"), newline="") as f:
        return {r["file"]: r["label"] for r in csv.DictReader(f, delimiter="\t")}


def duration(path):
    out = subprocess.run(["ffprobe", "-v", "error", "-show_entries", "format=duration", "-of",
                          "csv=p=0", path], capture_output=True, text=True, check=True).stdout
    return float(out.strip())


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 24
    work = os.path.join(OUT, f"frames_{n}")
    root = os.path.join(work, "root")
    label = labels()
    rows = []
    for video, source in VIDEOS:
        stem = os.path.splitext(os.path.basename(video))[0]
        folder = os.path.join(root, "frames", stem)
        os.makedirs(folder, exist_ok=True)
        src = os.path.join(TD, video)
        # n frames at the centres of n equal slices of the video
        rate = n / duration(src)
        subprocess.run(["ffmpeg", "-v", "error", "-y", "-i", src, "-vf", f"fps={rate:.6f}",
                        "-frames:v", str(n), os.path.join(folder, "%03d.png")], check=True)
        for f in sorted(os.listdir(folder)):
            rows.append((f"frames/{stem}/{f}", stem, label[video], source))
    manifest = os.path.join(work, "MANIFEST.tsv")
    with open(manifest, "w") as f:
        f.write("file\tidentity\tlabel\tgroup\n")
        for r in rows:
            f.write("\t".join(r) + "\n")
    crops = os.path.join(work, "crops")
    exe = os.path.join(TARGET, "release", "livegate")
    subprocess.run([exe, "crops", "--manifest", manifest, "--root", root, "--out", crops], check=True)
    c = Crops(crops)
    video = np.array([r["file"].split("/")[1] for r in c.rows])
    x = features(c.by_scale[27], c.by_scale[40])
    cached = dict(x=x, live=c.live, source=c.source, video=video)
    np.savez(os.path.join(OUT, f"frames_{n}.npz"), **cached)
    # the three new people's videos only (`_new`), and only their live ones (`_newlive`)
    new = np.char.startswith(c.source.astype(str), "video:")
    for suffix, keep in (("new", new), ("newlive", new & c.live)):
        np.savez(os.path.join(OUT, f"frames_{n}_{suffix}.npz"), **{k: v[keep] for k, v in cached.items()})
    for v in np.unique(video):
        m = video == v
        print(f"{v:<45} {m.sum():3d} frames, live {c.live[m][0]}, source {c.source[m][0]}")


if __name__ == "__main__":
    main()
