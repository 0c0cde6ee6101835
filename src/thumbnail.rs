//! Mailpit's attachment thumbnails: a 180×120 JPEG (quality 70) of an image
//! part on a white background, the image scaled to cover and centre-cropped,
//! or, when it is smaller than that in either direction, scaled down to fit
//! and centred. Anything that is not an image, or cannot or may not be
//! decoded, gets a blank white thumbnail, as Mailpit answers.
//!
//! Mail is attacker-controlled, so decoding is bounded: the dimensions are
//! read from the header and checked against a pixel budget before any pixel
//! is decoded, the decoder's own allocations are capped, an animation only
//! has its first frame decoded, and callers run [`thumbnail`] on a blocking
//! thread under [`DECODE_TIME_LIMIT`] with at most [`MAX_CONCURRENT`] at once.

use std::io::Cursor;
use std::time::Duration;

use image::codecs::jpeg::JpegEncoder;
use image::{DynamicImage, ImageDecoder, ImageReader, Limits, Rgb, RgbImage};
use tokio::sync::Semaphore;

pub const WIDTH: u32 = 180;
pub const HEIGHT: u32 = 120;
const QUALITY: u8 = 70;
/// The largest image decoded, in pixels (Mailpit's budget: 80 MB as RGBA).
const MAX_PIXELS: u64 = 20_000_000;
/// The most any one decoder may allocate.
const MAX_ALLOC: u64 = 128 * 1024 * 1024;
/// How long a caller waits for one thumbnail before answering a blank one.
/// The work itself always ends: it is bounded by [`MAX_PIXELS`].
pub const DECODE_TIME_LIMIT: Duration = Duration::from_secs(10);
/// Thumbnails decoded at the same time (each may hold [`MAX_ALLOC`]).
pub const MAX_CONCURRENT: usize = 2;

/// The JPEG thumbnail of a part of type `content_type`: always a valid
/// 180×120 JPEG, blank when the part is not a decodable image.
pub fn thumbnail(content_type: &str, data: &[u8]) -> Vec<u8> {
    let is_image = content_type
        .get(..6)
        .is_some_and(|t| t.eq_ignore_ascii_case("image/"));
    let canvas = if is_image {
        match decode(data) {
            Ok(image) => on_white(&scaled(&image)),
            Err(error) => {
                tracing::debug!(%error, "no thumbnail for an image part");
                blank_canvas()
            }
        }
    } else {
        blank_canvas()
    };
    encode(&canvas)
}

/// [`thumbnail`] off the async threads, at most [`MAX_CONCURRENT`] at once,
/// answering a blank thumbnail when it takes over [`DECODE_TIME_LIMIT`] (the
/// decode then finishes in the background, still holding its slot, so slow
/// images cannot pile up).
pub async fn thumbnail_bounded(content_type: String, data: Vec<u8>) -> Vec<u8> {
    static SLOTS: Semaphore = Semaphore::const_new(MAX_CONCURRENT);
    let work = async {
        let Ok(slot) = SLOTS.acquire().await else {
            return blank();
        };
        tokio::task::spawn_blocking(move || {
            let _slot = slot;
            thumbnail(&content_type, &data)
        })
        .await
        .unwrap_or_else(|_| blank())
    };
    tokio::time::timeout(DECODE_TIME_LIMIT, work)
        .await
        .unwrap_or_else(|_| blank())
}

/// A blank thumbnail (also what a caller answers when decoding times out).
pub fn blank() -> Vec<u8> {
    encode(&blank_canvas())
}

fn blank_canvas() -> RgbImage {
    RgbImage::from_pixel(WIDTH, HEIGHT, Rgb([255, 255, 255]))
}

fn decode(data: &[u8]) -> Result<DynamicImage, String> {
    let mut limits = Limits::default();
    limits.max_image_width = Some(u32::try_from(MAX_PIXELS).unwrap_or(u32::MAX));
    limits.max_image_height = Some(u32::try_from(MAX_PIXELS).unwrap_or(u32::MAX));
    limits.max_alloc = Some(MAX_ALLOC);
    let mut reader = ImageReader::new(Cursor::new(data))
        .with_guessed_format()
        .map_err(|e| e.to_string())?;
    reader.limits(limits);
    // Reads the header only.
    let mut decoder = reader.into_decoder().map_err(|e| e.to_string())?;
    let (width, height) = decoder.dimensions();
    let pixels = u64::from(width) * u64::from(height);
    if pixels == 0 || pixels > MAX_PIXELS {
        return Err(format!("{width}x{height} is over the pixel budget"));
    }
    let orientation = decoder.orientation().ok();
    // As an `ImageDecoder`, an animated GIF or WebP yields its first frame.
    let mut image = DynamicImage::from_decoder(decoder).map_err(|e| e.to_string())?;
    if let Some(orientation) = orientation {
        image.apply_orientation(orientation);
    }
    Ok(image)
}

/// Covers 180×120 and crops the middle, or fits inside it when smaller.
fn scaled(image: &DynamicImage) -> DynamicImage {
    let (w, h) = (image.width(), image.height());
    if w < WIDTH || h < HEIGHT {
        return if w <= WIDTH && h <= HEIGHT {
            image.clone()
        } else {
            image.thumbnail(WIDTH, HEIGHT)
        };
    }
    // The scale that makes both sides at least the thumbnail's.
    let scale = f64::max(
        f64::from(WIDTH) / f64::from(w),
        f64::from(HEIGHT) / f64::from(h),
    );
    let cover_w = ((f64::from(w) * scale).round() as u32).max(WIDTH);
    let cover_h = ((f64::from(h) * scale).round() as u32).max(HEIGHT);
    image.thumbnail_exact(cover_w, cover_h).crop_imm(
        (cover_w - WIDTH) / 2,
        (cover_h - HEIGHT) / 2,
        WIDTH,
        HEIGHT,
    )
}

/// The image centred on a white 180×120 canvas, transparency blended onto
/// the white (a transparent PNG must not turn black).
fn on_white(image: &DynamicImage) -> RgbImage {
    let rgba = image.to_rgba8();
    let mut canvas = blank_canvas();
    let left = (WIDTH - rgba.width().min(WIDTH)) / 2;
    let top = (HEIGHT - rgba.height().min(HEIGHT)) / 2;
    for (x, y, pixel) in rgba.enumerate_pixels() {
        if x >= WIDTH || y >= HEIGHT {
            continue;
        }
        let [r, g, b, a] = pixel.0;
        let blend =
            |c: u8| ((u32::from(c) * u32::from(a) + 255 * (255 - u32::from(a))) / 255) as u8;
        canvas.put_pixel(left + x, top + y, Rgb([blend(r), blend(g), blend(b)]));
    }
    canvas
}

fn encode(canvas: &RgbImage) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 * 1024);
    if let Err(error) = JpegEncoder::new_with_quality(&mut out, QUALITY).encode_image(canvas) {
        // Encoding a 180×120 RGB buffer into memory cannot fail; if it
        // somehow did, the empty answer is still bounded.
        tracing::error!(%error, "cannot encode a thumbnail");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn dimensions(jpeg: &[u8]) -> (u32, u32) {
        let image = image::load_from_memory_with_format(jpeg, image::ImageFormat::Jpeg).unwrap();
        (image.width(), image.height())
    }

    fn png(width: u32, height: u32, pixel: image::Rgba<u8>) -> Vec<u8> {
        let image = image::RgbaImage::from_pixel(width, height, pixel);
        let mut out = Vec::new();
        image
            .write_to(&mut Cursor::new(&mut out), image::ImageFormat::Png)
            .unwrap();
        out
    }

    #[test]
    fn large_images_are_cropped_and_small_ones_padded() {
        let red = png(600, 200, image::Rgba([255, 0, 0, 255]));
        let thumb = thumbnail("image/png", &red);
        assert_eq!(dimensions(&thumb), (WIDTH, HEIGHT));
        let decoded = image::load_from_memory(&thumb).unwrap().to_rgb8();
        // Covered: red to the edges.
        assert!(decoded.get_pixel(1, 1)[0] > 200 && decoded.get_pixel(1, 1)[1] < 60);

        let small = png(10, 10, image::Rgba([0, 0, 255, 255]));
        let decoded = image::load_from_memory(&thumbnail("image/png", &small))
            .unwrap()
            .to_rgb8();
        assert!(decoded.get_pixel(90, 60)[2] > 200, "centred");
        assert!(
            decoded.get_pixel(2, 2).0.iter().all(|&c| c > 240),
            "padded white"
        );

        let transparent = png(300, 300, image::Rgba([0, 0, 0, 0]));
        let decoded = image::load_from_memory(&thumbnail("image/png", &transparent))
            .unwrap()
            .to_rgb8();
        assert!(
            decoded.get_pixel(90, 60).0.iter().all(|&c| c > 240),
            "transparency is white"
        );
    }

    /// A PNG header that declares 100000×100000 pixels (40 GB as RGBA)
    /// followed by a little compressed data: refused before decoding.
    #[test]
    fn decompression_bomb_gets_a_blank_thumbnail() {
        let bomb = bomb_png(100_000, 100_000);
        assert!(bomb.len() < 200);
        let started = std::time::Instant::now();
        let thumb = thumbnail("image/png", &bomb);
        assert!(started.elapsed() < Duration::from_secs(2));
        assert_eq!(dimensions(&thumb), (WIDTH, HEIGHT));
        assert_eq!(thumb, blank());
        // Refused from the header (by our budget or the decoder's limits).
        let error = decode(&bomb).unwrap_err();
        assert!(
            error.contains("budget") || error.contains("imit"),
            "{error}"
        );
    }

    #[test]
    fn non_images_and_garbage_get_a_blank_thumbnail() {
        assert_eq!(thumbnail("text/plain", b"hello"), blank());
        assert_eq!(
            thumbnail("image/png", b"\x89PNG\r\n\x1a\n garbage"),
            blank()
        );
        assert_eq!(dimensions(&blank()), (WIDTH, HEIGHT));
    }

    /// Corrupted images (bytes of valid ones flipped at random) never panic
    /// and always give a 180×120 JPEG.
    #[test]
    fn corrupted_images_still_give_a_thumbnail() {
        let mut gif = Vec::new();
        image::RgbaImage::from_pixel(30, 20, image::Rgba([0, 128, 0, 255]))
            .write_to(&mut Cursor::new(&mut gif), image::ImageFormat::Gif)
            .unwrap();
        let mut seed = 0x9e37_79b9_7f4a_7c15u64;
        for original in [png(40, 30, image::Rgba([1, 2, 3, 255])), gif] {
            for _ in 0..60 {
                let mut data = original.clone();
                for _ in 0..4 {
                    seed ^= seed << 13;
                    seed ^= seed >> 7;
                    seed ^= seed << 17;
                    let at = (seed % data.len() as u64) as usize;
                    data[at] = (seed >> 32) as u8;
                }
                assert_eq!(dimensions(&thumbnail("image/x", &data)), (WIDTH, HEIGHT));
            }
        }
    }

    /// A PNG with the given declared size and one tiny IDAT chunk.
    fn bomb_png(width: u32, height: u32) -> Vec<u8> {
        fn chunk(out: &mut Vec<u8>, kind: &[u8; 4], data: &[u8]) {
            out.extend_from_slice(&(data.len() as u32).to_be_bytes());
            out.extend_from_slice(kind);
            out.extend_from_slice(data);
            let mut crc_input = kind.to_vec();
            crc_input.extend_from_slice(data);
            out.extend_from_slice(&crc32(&crc_input).to_be_bytes());
        }
        let mut out = b"\x89PNG\r\n\x1a\n".to_vec();
        let mut header = Vec::new();
        header.extend_from_slice(&width.to_be_bytes());
        header.extend_from_slice(&height.to_be_bytes());
        header.extend_from_slice(&[8, 6, 0, 0, 0]);
        chunk(&mut out, b"IHDR", &header);
        // A zlib stream of a few zero bytes.
        chunk(
            &mut out,
            b"IDAT",
            &[0x78, 0x9c, 0x63, 0x60, 0x00, 0x00, 0x00, 0x02, 0x00, 0x01],
        );
        chunk(&mut out, b"IEND", &[]);
        out
    }

    fn crc32(data: &[u8]) -> u32 {
        let mut crc = 0xffff_ffffu32;
        for &byte in data {
            crc ^= u32::from(byte);
            for _ in 0..8 {
                crc = if crc & 1 != 0 {
                    (crc >> 1) ^ 0xedb8_8320
                } else {
                    crc >> 1
                };
            }
        }
        !crc
    }
}
