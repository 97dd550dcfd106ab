//! Images: their size from the header alone, and thumbnails, decoded under a bound so a
//! decompression bomb (a small file that claims a huge picture) is refused, not decoded. Needs
//! the `thumbnails` feature (the `image` crate, png/jpeg/gif/webp only); without it images
//! have no size and no thumbnail.

use std::io;

/// Pixels a source image may have for a thumbnail to be made of it: a 40-megapixel photo
/// (160 MiB decoded as RGBA) passes, a 100k × 100k claim does not.
pub const MAX_SOURCE_PIXELS: u64 = 40_000_000;
/// The most a decoder may allocate, whatever the header says.
#[cfg_attr(not(feature = "thumbnails"), allow(dead_code))]
const MAX_DECODE_BYTES: u64 = 200 * 1024 * 1024;

#[derive(Debug, thiserror::Error)]
pub enum ImageError {
    #[error("the image is {width}×{height} pixels; thumbnails are made of images up to {MAX_SOURCE_PIXELS} pixels")]
    TooLarge { width: u32, height: u32 },
    #[error("the image cannot be decoded: {0}")]
    Undecodable(String),
    #[error("thumbnails are not built into this relay")]
    Unsupported,
    #[error("reading the image: {0}")]
    Io(#[from] io::Error),
}

#[cfg(feature = "thumbnails")]
mod imp {
    use std::io::{BufReader, Cursor};

    use image::{DynamicImage, ImageFormat, ImageReader, Limits};

    use super::*;

    fn reader(
        file: std::fs::File,
        mime: &str,
    ) -> Result<ImageReader<BufReader<std::fs::File>>, ImageError> {
        let format = ImageFormat::from_mime_type(mime)
            .ok_or_else(|| ImageError::Undecodable(format!("{mime} is not an image type")))?;
        Ok(ImageReader::with_format(BufReader::new(file), format))
    }

    /// Width and height from the header; nothing decoded.
    pub fn dimensions(file: std::fs::File, mime: &str) -> Result<(u32, u32), ImageError> {
        reader(file, mime)?
            .into_dimensions()
            .map_err(|e| ImageError::Undecodable(e.to_string()))
    }

    /// A thumbnail at most `px` on its longer side: JPEG, or PNG when the image has alpha.
    pub fn thumbnail(
        file: std::fs::File,
        mime: &str,
        (width, height): (u32, u32),
        px: u32,
    ) -> Result<Vec<u8>, ImageError> {
        if u64::from(width) * u64::from(height) > MAX_SOURCE_PIXELS {
            return Err(ImageError::TooLarge { width, height });
        }
        let mut limits = Limits::default();
        limits.max_image_width = Some(width);
        limits.max_image_height = Some(height);
        limits.max_alloc = Some(MAX_DECODE_BYTES);
        let mut reader = reader(file, mime)?;
        reader.limits(limits);
        let image = reader.decode().map_err(|e| match e {
            image::ImageError::Limits(_) => ImageError::TooLarge { width, height },
            e => ImageError::Undecodable(e.to_string()),
        })?;
        let small = image.thumbnail(px, px);
        let mut out = Cursor::new(Vec::new());
        let written = if small.color().has_alpha() {
            small.write_to(&mut out, ImageFormat::Png)
        } else {
            let rgb = DynamicImage::ImageRgb8(small.to_rgb8());
            rgb.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(
                &mut out, 80,
            ))
        };
        written.map_err(|e| ImageError::Undecodable(e.to_string()))?;
        Ok(out.into_inner())
    }
}

#[cfg(not(feature = "thumbnails"))]
mod imp {
    use super::*;

    pub fn dimensions(_: std::fs::File, _: &str) -> Result<(u32, u32), ImageError> {
        Err(ImageError::Unsupported)
    }

    pub fn thumbnail(
        _: std::fs::File,
        _: &str,
        _: (u32, u32),
        _: u32,
    ) -> Result<Vec<u8>, ImageError> {
        Err(ImageError::Unsupported)
    }
}

pub use imp::{dimensions, thumbnail};
