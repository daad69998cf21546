//! QR codes as inline images (`data:image/svg+xml;base64,…`), Logto's `secretQrCode`: the
//! hosted pages and API clients show it in an `<img>` with no further request.

use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use qrcodegen::{QrCode, QrCodeEcc};

/// Modules of white border on each side, as the QR specification asks.
const QUIET_ZONE: i32 = 4;

/// `text` as a QR code in an SVG data URI; `None` when it is too long for a QR code.
pub fn svg_data_uri(text: &str) -> Option<String> {
    let qr = QrCode::encode_text(text, QrCodeEcc::Medium).ok()?;
    let size = qr.size();
    let full = size + 2 * QUIET_ZONE;
    let mut path = String::new();
    for y in 0..size {
        for x in 0..size {
            if qr.get_module(x, y) {
                path.push_str(&format!("M{},{}h1v1h-1z", x + QUIET_ZONE, y + QUIET_ZONE));
            }
        }
    }
    let svg = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 {full} {full}\" shape-rendering=\"crispEdges\">\
         <rect width=\"100%\" height=\"100%\" fill=\"#fff\"/><path d=\"{path}\" fill=\"#000\"/></svg>"
    );
    Some(format!("data:image/svg+xml;base64,{}", STANDARD.encode(svg)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_uri_becomes_an_svg_data_uri() {
        let uri = svg_data_uri("otpauth://totp/a:b?secret=JBSWY3DPEHPK3PXP&issuer=a").unwrap();
        let body = uri.strip_prefix("data:image/svg+xml;base64,").unwrap();
        let svg = String::from_utf8(STANDARD.decode(body).unwrap()).unwrap();
        assert!(svg.starts_with("<svg") && svg.ends_with("</svg>"));
        assert!(svg.contains("h1v1h-1z"));
    }

    #[test]
    fn text_beyond_a_qr_codes_capacity_is_refused() {
        assert_eq!(svg_data_uri(&"x".repeat(5000)), None);
    }
}
