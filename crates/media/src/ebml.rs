//! The one fact of a Matroska/WebM header the decoder needs from us: how long the file says it
//! is. FFmpeg plays a WebM cut short to its last whole cluster without complaint, so a video
//! damaged in transit would be judged on the frames that arrived (an MP4 lists its samples, so
//! a cut one is caught by counting them). The Segment element's size says where the file ends.

/// EBML header element id; the file's first four bytes.
const EBML_ID: [u8; 4] = [0x1A, 0x45, 0xDF, 0xA3];
/// Segment element id: everything after the EBML header.
const SEGMENT_ID: [u8; 4] = [0x18, 0x53, 0x80, 0x67];

/// The byte offset where the Segment says the file ends, or `None` when the header does not
/// say (a live recording, as a browser's MediaRecorder writes, leaves the size "unknown") or
/// cannot be read (FFmpeg then judges the file itself).
pub(crate) fn declared_end(bytes: &[u8]) -> Option<u64> {
    let rest = bytes.strip_prefix(&EBML_ID)?;
    let (header_len, width) = vint(rest)?;
    let at = 4 + width as u64 + header_len?;
    let segment = bytes.get(usize::try_from(at).ok()?..)?;
    let rest = segment.strip_prefix(&SEGMENT_ID)?;
    let (segment_len, width) = vint(rest)?;
    Some(at + 4 + width as u64 + segment_len?)
}

/// An EBML variable-length size: its value (`None` for the reserved "unknown" value, all of
/// its bits set) and how many bytes it takes.
fn vint(bytes: &[u8]) -> Option<(Option<u64>, usize)> {
    let first = *bytes.first()?;
    let width = first.leading_zeros() as usize + 1;
    if width > 8 || bytes.len() < width {
        return None;
    }
    let mut value = u64::from(first) & (0xFF >> width);
    for b in &bytes[1..width] {
        value = (value << 8) | u64::from(*b);
    }
    let unknown = (1u64 << (7 * width)) - 1;
    Some(((value != unknown).then_some(value), width))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_are_read_and_unknown_ones_are_none() {
        assert_eq!(vint(&[0x81]), Some((Some(1), 1)));
        assert_eq!(vint(&[0x40, 0x02]), Some((Some(2), 2)));
        assert_eq!(vint(&[0xFF]), Some((None, 1)));
        assert_eq!(
            vint(&[0x01, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF]),
            Some((None, 8))
        );
        assert_eq!(vint(&[0x00]), None);
        assert_eq!(vint(&[0x40]), None);
    }

    #[test]
    fn the_segment_says_where_the_file_ends() {
        // EBML header of 3 bytes, then a Segment of 0x10 bytes.
        let mut file = vec![0x1A, 0x45, 0xDF, 0xA3, 0x83, 1, 2, 3];
        file.extend([0x18, 0x53, 0x80, 0x67, 0x90]);
        assert_eq!(declared_end(&file), Some(8 + 5 + 0x10));
        // "Unknown" size: a live recording.
        let last = file.len() - 1;
        file[last] = 0xFF;
        assert_eq!(declared_end(&file), None);
        assert_eq!(declared_end(b"not ebml"), None);
        assert_eq!(declared_end(&file[..10]), None);
    }
}
