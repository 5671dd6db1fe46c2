//! Not decoding what nobody wants: H.264 pictures that no other picture references.
//!
//! A non-reference picture (every slice with `nal_ref_idc` 0; most B-frames) can be left out of
//! the decoder without changing any other picture. When no stream wants it, sending it would
//! only cost time: about a third of the frames of a typical B-frame stream. Which frame a packet
//! holds, in display order, is its presentation time's rank among the packets read so far:
//! encoders send every picture that precedes a non-reference one in display order before it,
//! and its references too. Decoded frames are numbered the same way, so skipped frames keep
//! their place in the count.

/// The display-order ranks of packets by presentation time, and whether the stream allows
/// skipping at all.
pub(crate) struct NonRefSkip {
    /// Bytes of the length prefix before each NAL unit (the `avcC` record's size field).
    length_size: usize,
    /// Presentation times of the packets read so far, sorted.
    seen: Vec<i64>,
    /// False once a packet came without a time or with a time already seen: ranks would be
    /// ambiguous, so nothing more is skipped and frames are counted as decoded.
    ranked: bool,
    /// Presentation times of the packets sent to the decoder.
    decoded: std::collections::HashSet<i64>,
    pub skipped: u64,
}

impl NonRefSkip {
    /// For H.264 with an `avcC` record (MP4, MOV, Matroska); `None` for anything else.
    pub fn for_stream(h264: bool, extradata: &[u8]) -> Option<Self> {
        if !h264 || extradata.len() < 7 || extradata[0] != 1 {
            return None;
        }
        Some(Self {
            length_size: (extradata[4] & 0x3) as usize + 1,
            seen: Vec::new(),
            ranked: true,
            decoded: std::collections::HashSet::new(),
            skipped: 0,
        })
    }

    /// Records a packet that will be shown (not one the container marks as discarded).
    /// Returns its display index while ranks are reliable.
    pub fn note(&mut self, pts: Option<i64>) -> Option<u64> {
        let pts = pts.filter(|_| self.ranked);
        let Some(pts) = pts else {
            self.ranked = false;
            return None;
        };
        match self.seen.binary_search(&pts) {
            Ok(_) => {
                self.ranked = false;
                None
            }
            Err(i) => {
                self.seen.insert(i, pts);
                Some(i as u64)
            }
        }
    }

    /// The display index of a decoded frame, when ranks are reliable.
    pub fn index_of(&self, pts: Option<i64>) -> Option<u64> {
        if !self.ranked {
            return None;
        }
        self.seen.binary_search(&pts?).ok().map(|i| i as u64)
    }

    /// Notes that the packet at display index `index` goes to the decoder.
    pub fn mark_decoded(&mut self, index: u64) {
        if let Some(&pts) = self.seen.get(index as usize) {
            self.decoded.insert(pts);
        }
    }

    /// Whether one of the `window` frames before display index `index` goes to the decoder.
    pub fn decoded_within(&self, index: u64, window: u64) -> bool {
        let i = index as usize;
        (1..=window as usize)
            .filter_map(|k| i.checked_sub(k))
            .any(|j| self.seen.get(j).is_some_and(|p| self.decoded.contains(p)))
    }

    /// Whether `packet` holds a picture no other picture references: it has slices, and none
    /// of them has a non-zero `nal_ref_idc`. Malformed length prefixes answer no.
    pub fn is_non_reference(&self, packet: &[u8]) -> bool {
        let mut pos = 0;
        let mut slices = false;
        while pos < packet.len() {
            let Some(prefix) = packet.get(pos..pos + self.length_size) else {
                return false;
            };
            let len = prefix.iter().fold(0usize, |n, &b| (n << 8) | b as usize);
            pos += self.length_size;
            let Some(&header) = packet.get(pos) else {
                return false;
            };
            if len == 0 || pos + len > packet.len() {
                return false;
            }
            let (ref_idc, kind) = (header >> 5 & 0x3, header & 0x1f);
            // Coded slices: 1 (non-IDR), 5 (IDR); data partitions 2-4 carry the same idc.
            if (1..=5).contains(&kind) {
                if ref_idc != 0 {
                    return false;
                }
                slices = true;
            }
            pos += len;
        }
        slices
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn avcc() -> Vec<u8> {
        vec![1, 100, 0, 31, 0xff, 0xe1, 0]
    }

    fn nal(header: u8, body: usize) -> Vec<u8> {
        let mut v = ((body + 1) as u32).to_be_bytes().to_vec();
        v.push(header);
        v.extend(std::iter::repeat_n(0xAB, body));
        v
    }

    #[test]
    fn only_h264_with_an_avcc_record() {
        assert!(NonRefSkip::for_stream(true, &avcc()).is_some());
        assert!(NonRefSkip::for_stream(false, &avcc()).is_none());
        assert!(NonRefSkip::for_stream(true, &[0, 0, 0, 1, 0x67]).is_none());
    }

    #[test]
    fn reference_and_non_reference_slices() {
        let s = NonRefSkip::for_stream(true, &avcc()).unwrap();
        // SEI (idc 0) + non-reference slice: skippable.
        let mut p = nal(0x06, 5);
        p.extend(nal(0x01, 20));
        assert!(s.is_non_reference(&p));
        // A reference slice (idc 2), or an IDR: never.
        assert!(!s.is_non_reference(&nal(0x41, 20)));
        assert!(!s.is_non_reference(&nal(0x65, 20)));
        // No slice at all, or a length running past the end: no.
        assert!(!s.is_non_reference(&nal(0x06, 5)));
        let mut cut = nal(0x01, 20);
        cut.truncate(10);
        assert!(!s.is_non_reference(&cut));
        assert!(!s.is_non_reference(&[]));
    }

    #[test]
    fn ranks_follow_presentation_order() {
        let mut s = NonRefSkip::for_stream(true, &avcc()).unwrap();
        // Decode order I0 P3 B1 B2: the B-frames arrive after their successor.
        assert_eq!(s.note(Some(0)), Some(0));
        assert_eq!(s.note(Some(3000)), Some(1));
        assert_eq!(s.note(Some(1000)), Some(1));
        assert_eq!(s.note(Some(2000)), Some(2));
        assert_eq!(s.index_of(Some(3000)), Some(3));
        assert_eq!(s.index_of(Some(1000)), Some(1));
        s.mark_decoded(0);
        s.mark_decoded(3);
        assert!(s.decoded_within(1, 1), "frame 0 is decoded");
        assert!(!s.decoded_within(2, 1), "frame 1 is not");
        assert!(s.decoded_within(2, 2));
        assert!(!s.decoded_within(0, 3));
        // A repeated time makes ranks ambiguous: stop.
        assert_eq!(s.note(Some(2000)), None);
        assert_eq!(s.index_of(Some(0)), None);
    }
}
