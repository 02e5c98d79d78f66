//! Frame codec behaviour on real byte streams: split and merged reads, zero-length frames,
//! oversized and negative length headers, and streams that end in the middle of a frame.
//! Expected behaviour: wire-protocol.md §1 (4-byte big-endian signed length + payload) and the
//! golden observations in golden/wire/README.md (#22 zero-length frame is a valid empty packet,
//! #25 negative length closes the connection).

mod common;

use bytes::BytesMut;
use canal_protocol::codec::{frame, FrameCodec, FrameError, DEFAULT_MAX_FRAME};
use futures::{SinkExt, StreamExt};
use tokio::io::AsyncWriteExt;
use tokio_util::codec::{Decoder, FramedRead, FramedWrite};

fn payloads() -> Vec<Vec<u8>> {
    vec![
        b"\x10\x01\x18\x03".to_vec(),
        Vec::new(),
        (0..=255u8).collect(),
        vec![0x5a; 70_000], // larger than the codec's buffer growth step
    ]
}

fn wire(ps: &[Vec<u8>]) -> Vec<u8> {
    ps.iter().flat_map(|p| frame(p).to_vec()).collect()
}

async fn read_all(chunks: Vec<Vec<u8>>, codec: FrameCodec) -> (Vec<Vec<u8>>, Option<FrameError>) {
    let (mut w, r) = tokio::io::duplex(1 << 20);
    let writer = tokio::spawn(async move {
        for c in chunks {
            w.write_all(&c).await.unwrap();
            w.flush().await.unwrap();
            tokio::task::yield_now().await;
        }
        // dropping `w` closes the stream
    });
    let mut reader = FramedRead::new(r, codec);
    let mut got = Vec::new();
    let mut err = None;
    while let Some(item) = reader.next().await {
        match item {
            Ok(p) => got.push(p.to_vec()),
            Err(e) => {
                err = Some(e);
                break;
            }
        }
    }
    writer.await.unwrap();
    (got, err)
}

#[tokio::test]
async fn split_reads_byte_by_byte() {
    let ps = payloads();
    let chunks: Vec<Vec<u8>> = wire(&ps[..3]).into_iter().map(|b| vec![b]).collect();
    let (got, err) = read_all(chunks, FrameCodec::default()).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got, ps[..3].to_vec());
}

#[tokio::test]
async fn split_reads_odd_chunks_across_headers() {
    let ps = payloads();
    let bytes = wire(&ps);
    // chunk sizes 1,2,3,...: cuts fall inside headers and inside payloads
    let mut chunks = Vec::new();
    let (mut at, mut n) = (0, 1);
    while at < bytes.len() {
        let end = (at + n).min(bytes.len());
        chunks.push(bytes[at..end].to_vec());
        at = end;
        n = n % 997 + 1;
    }
    let (got, err) = read_all(chunks, FrameCodec::default()).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got, ps);
}

#[tokio::test]
async fn merged_reads_one_write() {
    let ps = payloads();
    let (got, err) = read_all(vec![wire(&ps)], FrameCodec::default()).await;
    assert!(err.is_none(), "{err:?}");
    assert_eq!(got, ps);
}

#[test]
fn merged_frames_in_one_buffer_decode_one_at_a_time() {
    let ps = payloads();
    let mut buf = BytesMut::from(&wire(&ps)[..]);
    let mut codec = FrameCodec::default();
    for p in &ps {
        assert_eq!(codec.decode(&mut buf).unwrap().unwrap()[..], p[..]);
    }
    assert!(buf.is_empty());
    assert!(codec.decode(&mut buf).unwrap().is_none());
}

#[test]
fn zero_length_frame_is_an_empty_payload() {
    let mut codec = FrameCodec::default();
    let mut buf = BytesMut::from(&[0u8, 0, 0, 0, 0, 0, 0, 4, 0x10, 0x01, 0x18, 0x03][..]);
    assert_eq!(codec.decode(&mut buf).unwrap().unwrap().len(), 0);
    assert_eq!(
        codec.decode(&mut buf).unwrap().unwrap()[..],
        [0x10, 0x01, 0x18, 0x03]
    );
    // An empty payload is a Packet with every field absent (the server then reports type 0).
    let pkt = canal_protocol::packet::parse_packet(&[]).unwrap();
    assert_eq!(pkt.r#type, 0);
}

#[test]
fn oversized_length_is_refused_from_the_header_alone() {
    let mut codec = FrameCodec::new(1024);
    let mut buf = BytesMut::from(&[0u8, 0, 4, 1][..]); // 1025
    match codec.decode(&mut buf) {
        Err(FrameError::TooLarge {
            len: 1025,
            max: 1024,
        }) => {}
        other => panic!("expected TooLarge, got {other:?}"),
    }
    // Exactly the maximum is fine.
    let mut buf = BytesMut::from(&frame(&[7u8; 1024])[..]);
    assert_eq!(codec.decode(&mut buf).unwrap().unwrap().len(), 1024);
}

#[test]
fn huge_header_does_not_allocate() {
    // golden noauth-oversize: header 7fffffff followed by a few bytes.
    let mut codec = FrameCodec::new(usize::MAX);
    let mut buf = BytesMut::from(&[0x7f, 0xff, 0xff, 0xff, 1, 2, 3][..]);
    assert!(codec.decode(&mut buf).unwrap().is_none());
    assert!(
        buf.capacity() < 1 << 20,
        "reserved {} bytes",
        buf.capacity()
    );
    // with the default maximum it is an error
    let mut buf = BytesMut::from(&[0x7f, 0xff, 0xff, 0xff][..]);
    assert!(matches!(
        FrameCodec::default().decode(&mut buf),
        Err(FrameError::TooLarge {
            len: 0x7fff_ffff,
            max: DEFAULT_MAX_FRAME
        })
    ));
}

#[test]
fn negative_length_is_an_error() {
    for header in [[0xff, 0xff, 0xff, 0xff], [0x80, 0, 0, 0]] {
        let mut buf = BytesMut::from(&header[..]);
        match FrameCodec::default().decode(&mut buf) {
            Err(FrameError::Negative(n)) => assert_eq!(n, i32::from_be_bytes(header)),
            other => panic!("expected Negative, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn truncated_stream_mid_payload() {
    let mut bytes = wire(&payloads()[..1]);
    let second = frame(b"abcdef");
    bytes.extend_from_slice(&second[..7]); // header + 3 of 6 payload bytes
    let (got, err) = read_all(vec![bytes], FrameCodec::default()).await;
    assert_eq!(got.len(), 1);
    assert!(
        matches!(err, Some(FrameError::Truncated { buffered: 7 })),
        "{err:?}"
    );
}

#[tokio::test]
async fn truncated_stream_mid_header() {
    let (got, err) = read_all(vec![vec![0, 0]], FrameCodec::default()).await;
    assert!(got.is_empty());
    assert!(
        matches!(err, Some(FrameError::Truncated { buffered: 2 })),
        "{err:?}"
    );
}

#[tokio::test]
async fn clean_eof_on_frame_boundary() {
    let (got, err) = read_all(vec![wire(&payloads()[..2])], FrameCodec::default()).await;
    assert!(err.is_none());
    assert_eq!(got.len(), 2);
    let (got, err) = read_all(vec![], FrameCodec::default()).await;
    assert!(err.is_none() && got.is_empty());
}

#[tokio::test]
async fn encoder_writes_header_and_refuses_oversize() {
    let mut out = Vec::new();
    {
        let mut w = FramedWrite::new(&mut out, FrameCodec::new(8));
        w.send(&b"\x10\x01\x18\x03"[..]).await.unwrap();
        w.send(&b""[..]).await.unwrap();
        assert!(matches!(
            w.send(&[0u8; 9][..]).await,
            Err(FrameError::TooLarge { len: 9, max: 8 })
        ));
    }
    assert_eq!(out, [0, 0, 0, 4, 0x10, 0x01, 0x18, 0x03, 0, 0, 0, 0]);
}

/// The deliberately broken headers of golden/wire/noauth-oversize.frames are refused.
#[test]
fn golden_oversize_headers_refused() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let mut seen = 0;
    for f in common::golden_frames(&shared, "noauth-oversize.frames") {
        if f.well_formed() {
            continue;
        }
        let mut buf = BytesMut::from(&f.wire[..]);
        let res = FrameCodec::default().decode(&mut buf);
        assert!(
            matches!(
                res,
                Err(FrameError::TooLarge { .. }) | Err(FrameError::Negative(_))
            ),
            "{}: {res:?}",
            f.origin
        );
        seen += 1;
    }
    assert!(seen >= 3, "{seen}");
}
