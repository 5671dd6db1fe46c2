//! What the bytes are, from their first bytes only: never from a file name or a client's MIME
//! type (a WebP uploaded as `photo.jpg` is a WebP).

use serde::Serialize;

/// A still-image format this crate knows by its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum StillFormat {
    Jpeg,
    Png,
    Gif,
    Bmp,
    Tiff,
    WebP,
    Avif,
    /// HEIC and other HEIF still images (ISO-BMFF `ftyp` with an image brand).
    Heif,
}

impl StillFormat {
    /// Lower-case short name: `jpeg`, `png`, `gif`, `bmp`, `tiff`, `webp`, `avif`, `heif`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Jpeg => "jpeg",
            Self::Png => "png",
            Self::Gif => "gif",
            Self::Bmp => "bmp",
            Self::Tiff => "tiff",
            Self::WebP => "webp",
            Self::Avif => "avif",
            Self::Heif => "heif",
        }
    }
}

impl std::fmt::Display for StillFormat {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A video container this crate knows by its signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Container {
    /// ISO-BMFF (`ftyp` with an MP4/3GP/M4V brand, or no image brand).
    Mp4,
    /// QuickTime (`ftyp` brand `qt  `, or a bare `moov`/`mdat`/`wide` atom first).
    Mov,
    /// Matroska with DocType `webm` (what browsers' MediaRecorder writes).
    WebM,
    Matroska,
    Avi,
}

impl Container {
    /// Lower-case short name: `mp4`, `mov`, `webm`, `matroska`, `avi`.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Mp4 => "mp4",
            Self::Mov => "mov",
            Self::WebM => "webm",
            Self::Matroska => "matroska",
            Self::Avi => "avi",
        }
    }
}

impl std::fmt::Display for Container {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The verdict of [`sniff`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Kind {
    Still(StillFormat),
    Video(Container),
    /// Recognised, but neither a still nor a video this crate decodes (the name says what it
    /// is, e.g. `"pdf"`, `"jpeg-xl"`, `"wav"`), so errors can name it.
    Other(&'static str),
    Unknown,
}

impl Kind {
    /// A short name for messages: the format, the container, the other kind, or `unknown`.
    pub fn name(&self) -> &'static str {
        match self {
            Kind::Still(f) => f.as_str(),
            Kind::Video(c) => c.as_str(),
            Kind::Other(n) => n,
            Kind::Unknown => "unknown",
        }
    }
}

/// Identifies the bytes from their signature.
pub fn sniff(b: &[u8]) -> Kind {
    if b.starts_with(&[0xFF, 0xD8, 0xFF]) {
        return Kind::Still(StillFormat::Jpeg);
    }
    if b.starts_with(b"\x89PNG\r\n\x1a\n") {
        return Kind::Still(StillFormat::Png);
    }
    if b.starts_with(b"GIF87a") || b.starts_with(b"GIF89a") {
        return Kind::Still(StillFormat::Gif);
    }
    if b.starts_with(b"II*\0")
        || b.starts_with(b"MM\0*")
        || b.starts_with(b"II+\0")
        || b.starts_with(b"MM\0+")
    {
        return Kind::Still(StillFormat::Tiff);
    }
    if b.len() >= 12 && b.starts_with(b"RIFF") {
        return match &b[8..12] {
            b"WEBP" => Kind::Still(StillFormat::WebP),
            b"AVI " | b"AVIX" => Kind::Video(Container::Avi),
            b"WAVE" => Kind::Other("wav"),
            _ => Kind::Unknown,
        };
    }
    if is_bmp(b) {
        return Kind::Still(StillFormat::Bmp);
    }
    if b.len() >= 8 && &b[4..8] == b"ftyp" {
        return sniff_ftyp(b);
    }
    if b.len() >= 8
        && matches!(
            &b[4..8],
            b"moov" | b"mdat" | b"wide" | b"free" | b"skip" | b"pnot"
        )
    {
        return Kind::Video(Container::Mov);
    }
    if b.starts_with(&[0x1A, 0x45, 0xDF, 0xA3]) {
        // EBML header; the DocType string sits within its first few dozen bytes.
        let head = &b[..b.len().min(64)];
        if head.windows(4).any(|w| w == b"webm") {
            return Kind::Video(Container::WebM);
        }
        return Kind::Video(Container::Matroska);
    }
    if b.starts_with(&[0xFF, 0x0A]) || b.starts_with(b"\0\0\0\x0cJXL \r\n\x87\n") {
        return Kind::Other("jpeg-xl");
    }
    if b.starts_with(b"%PDF") {
        return Kind::Other("pdf");
    }
    if b.starts_with(b"8BPS") {
        return Kind::Other("psd");
    }
    if b.starts_with(b"OggS") {
        return Kind::Other("ogg");
    }
    if b.starts_with(b"FLV") {
        return Kind::Other("flv");
    }
    if b.starts_with(b"ID3") || (b.len() >= 2 && b[0] == 0xFF && b[1] & 0xE0 == 0xE0) {
        return Kind::Other("mp3");
    }
    if b.starts_with(b"fLaC") {
        return Kind::Other("flac");
    }
    if b.starts_with(&[0x30, 0x26, 0xB2, 0x75]) {
        return Kind::Other("asf/wmv");
    }
    if b.len() >= 377 && b[0] == 0x47 && b[188] == 0x47 && b[376] == 0x47 {
        return Kind::Other("mpeg-ts");
    }
    if b.starts_with(&[0, 0, 1, 0xBA]) {
        return Kind::Other("mpeg-ps");
    }
    if b.starts_with(b"PK\x03\x04") {
        return Kind::Other("zip");
    }
    let text = trim_text_start(b);
    if text.starts_with(b"<svg")
        || (text.starts_with(b"<?xml") && b[..b.len().min(512)].windows(4).any(|w| w == b"<svg"))
    {
        return Kind::Other("svg");
    }
    Kind::Unknown
}

fn trim_text_start(b: &[u8]) -> &[u8] {
    let b = b.strip_prefix(&[0xEF, 0xBB, 0xBF]).unwrap_or(b);
    let n = b.iter().take_while(|c| c.is_ascii_whitespace()).count();
    &b[n..]
}

fn is_bmp(b: &[u8]) -> bool {
    // "BM" alone is two bytes of chance: also require a known DIB header size.
    if b.len() < 18 || !b.starts_with(b"BM") {
        return false;
    }
    let dib = u32::from_le_bytes([b[14], b[15], b[16], b[17]]);
    matches!(dib, 12 | 16 | 40 | 52 | 56 | 64 | 108 | 124)
}

fn sniff_ftyp(b: &[u8]) -> Kind {
    let size = u32::from_be_bytes([b[0], b[1], b[2], b[3]]) as usize;
    let end = size.clamp(8, b.len().min(4096));
    let major = b.get(8..12).unwrap_or(b"");
    // Brands: the major brand, then (after the minor version) the compatible brands.
    let mut brands: Vec<&[u8]> = vec![major];
    let mut i = 16;
    while i + 4 <= end {
        brands.push(&b[i..i + 4]);
        i += 4;
    }
    let has = |set: &[&[u8; 4]]| brands.iter().any(|br| set.iter().any(|s| br == s));
    if has(&[b"avif", b"avis"]) {
        return Kind::Still(StillFormat::Avif);
    }
    if has(&[
        b"heic", b"heix", b"heim", b"heis", b"hevc", b"hevx", b"hevm", b"hevs", b"mif1", b"msf1",
    ]) {
        return Kind::Still(StillFormat::Heif);
    }
    if has(&[b"crx "]) {
        return Kind::Other("canon-raw");
    }
    if has(&[b"jxl "]) {
        return Kind::Other("jpeg-xl");
    }
    if major == b"qt  " {
        return Kind::Video(Container::Mov);
    }
    if matches!(major, b"M4A " | b"M4B " | b"M4P ") {
        // Audio-only MP4: still a container FFmpeg opens; decoding reports "no video stream".
        return Kind::Video(Container::Mp4);
    }
    Kind::Video(Container::Mp4)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn signatures() {
        assert_eq!(
            sniff(&[0xFF, 0xD8, 0xFF, 0xE0, 0, 0]),
            Kind::Still(StillFormat::Jpeg)
        );
        assert_eq!(
            sniff(b"\x89PNG\r\n\x1a\n...."),
            Kind::Still(StillFormat::Png)
        );
        assert_eq!(sniff(b"GIF89a......"), Kind::Still(StillFormat::Gif));
        assert_eq!(
            sniff(b"RIFF\0\0\0\0WEBPVP8 "),
            Kind::Still(StillFormat::WebP)
        );
        assert_eq!(sniff(b"RIFF\0\0\0\0AVI LIST"), Kind::Video(Container::Avi));
        assert_eq!(sniff(b"RIFF\0\0\0\0WAVEfmt "), Kind::Other("wav"));
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmp42\0\0\0\0isommp42"),
            Kind::Video(Container::Mp4)
        );
        assert_eq!(
            sniff(b"\0\0\0\x14ftypqt  \0\0\0\0qt  "),
            Kind::Video(Container::Mov)
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypheic\0\0\0\0mif1heic"),
            Kind::Still(StillFormat::Heif)
        );
        assert_eq!(
            sniff(b"\0\0\0\x1cftypavif\0\0\0\0avifmif1miaf"),
            Kind::Still(StillFormat::Avif)
        );
        assert_eq!(
            sniff(b"\0\0\0\x18ftypmif1\0\0\0\0mif1avif"),
            Kind::Still(StillFormat::Avif)
        );
        assert_eq!(
            sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"),
            Kind::Video(Container::WebM)
        );
        assert_eq!(
            sniff(b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska"),
            Kind::Video(Container::Matroska)
        );
        assert_eq!(sniff(b"%PDF-1.4"), Kind::Other("pdf"));
        assert_eq!(sniff(b"  <svg xmlns"), Kind::Other("svg"));
        assert_eq!(sniff(b""), Kind::Unknown);
        assert_eq!(sniff(b"BM"), Kind::Unknown);
        assert_eq!(sniff(b"hello world, this is text"), Kind::Unknown);
    }
}
