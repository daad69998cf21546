//! The hosted pages' colours from the tenant's brand colours, made readable: the text on a
//! button is white or black, whichever contrasts more with the brand colour, and a link is
//! the brand colour moved toward black (light) or white (dark) until it reaches WCAG's
//! 4.5:1 against the card it stands on.

/// The card's background in light and dark mode (`templates/base.html`).
const LIGHT_CARD: Rgb = Rgb(0xff, 0xff, 0xff);
const DARK_CARD: Rgb = Rgb(0x1c, 0x1c, 0x1e);
/// WCAG 2 AA for normal text.
const MIN_CONTRAST: f64 = 4.5;

/// The colours one mode of a page is drawn with, as CSS hex values.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Palette {
    /// The button's background (the brand colour as given).
    pub primary: String,
    /// Text on the button.
    pub on_primary: &'static str,
    /// Links and secondary buttons on the card.
    pub link: String,
}

impl Palette {
    /// The light mode's colours for `primary_color`.
    pub fn light(primary_color: &str) -> Self {
        Self::on_card(primary_color, LIGHT_CARD, Rgb(0, 0, 0), "#6139f6")
    }

    /// The dark mode's colours for `dark_primary_color`.
    pub fn dark(dark_primary_color: &str) -> Self {
        Self::on_card(dark_primary_color, DARK_CARD, Rgb(0xff, 0xff, 0xff), "#8c61ff")
    }

    fn on_card(color: &str, card: Rgb, toward: Rgb, default: &str) -> Self {
        let (brand, primary) = match Rgb::parse(color) {
            Some(rgb) => (rgb, rgb.hex()),
            // The sign-in experience only stores hex colours; a bad one gets Logto's default.
            None => (Rgb::parse(default).unwrap_or(Rgb(0x61, 0x39, 0xf6)), default.to_owned()),
        };
        let on_primary =
            if brand.contrast(Rgb(0xff, 0xff, 0xff)) >= brand.contrast(Rgb(0, 0, 0)) { "#ffffff" } else { "#000000" };
        Self { primary, on_primary, link: brand.readable_on(card, toward).hex() }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Rgb(u8, u8, u8);

impl Rgb {
    /// `#rrggbb` or `#rgb`.
    fn parse(s: &str) -> Option<Self> {
        let hex = s.trim().strip_prefix('#')?;
        let digit = |i: usize, len: usize| u8::from_str_radix(hex.get(i..i + len)?, 16).ok();
        match hex.len() {
            6 => Some(Self(digit(0, 2)?, digit(2, 2)?, digit(4, 2)?)),
            3 => Some(Self(digit(0, 1)? * 17, digit(1, 1)? * 17, digit(2, 1)? * 17)),
            _ => None,
        }
    }

    fn hex(self) -> String {
        format!("#{:02x}{:02x}{:02x}", self.0, self.1, self.2)
    }

    /// WCAG 2 relative luminance.
    fn luminance(self) -> f64 {
        let channel = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 { c / 12.92 } else { ((c + 0.055) / 1.055).powf(2.4) }
        };
        0.2126 * channel(self.0) + 0.7152 * channel(self.1) + 0.0722 * channel(self.2)
    }

    fn contrast(self, other: Self) -> f64 {
        let (a, b) = (self.luminance(), other.luminance());
        (a.max(b) + 0.05) / (a.min(b) + 0.05)
    }

    /// This colour, mixed toward `toward` in steps of 5 % until it reads on `background`.
    fn readable_on(self, background: Self, toward: Self) -> Self {
        let mix = |a: u8, b: u8, t: f64| (f64::from(a) + (f64::from(b) - f64::from(a)) * t).round() as u8;
        (0..=20)
            .map(|step| {
                let t = f64::from(step) / 20.0;
                Self(mix(self.0, toward.0, t), mix(self.1, toward.1, t), mix(self.2, toward.2, t))
            })
            .find(|c| c.contrast(background) >= MIN_CONTRAST)
            .unwrap_or(toward)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn contrast(a: &str, b: &str) -> f64 {
        Rgb::parse(a).unwrap().contrast(Rgb::parse(b).unwrap())
    }

    #[test]
    fn parses_hex_colours() {
        assert_eq!(Rgb::parse("#6139F6"), Some(Rgb(0x61, 0x39, 0xf6)));
        assert_eq!(Rgb::parse("#fff"), Some(Rgb(255, 255, 255)));
        assert_eq!(Rgb::parse("red"), None);
        assert_eq!(Rgb::parse("#12345"), None);
        assert_eq!(Rgb::parse("#ééé"), None);
    }

    #[test]
    fn contrast_matches_wcag() {
        assert!((contrast("#000000", "#ffffff") - 21.0).abs() < 1e-9);
        assert!((contrast("#777777", "#ffffff") - 4.48).abs() < 0.01);
    }

    #[test]
    fn every_brand_colour_becomes_readable() {
        // Logto's default dark primary (#8c61ff) is 4.3:1 on the dark card: it is lightened.
        for color in ["#8c61ff", "#6139f6", "#ffff00", "#000000", "#ffffff", "#777777", "#00aa00"] {
            let light = Palette::light(color);
            let dark = Palette::dark(color);
            assert!(contrast(&light.link, "#ffffff") >= MIN_CONTRAST, "{color}: {light:?}");
            assert!(contrast(&dark.link, "#1c1c1e") >= MIN_CONTRAST, "{color}: {dark:?}");
            for p in [&light, &dark] {
                assert!(contrast(p.on_primary, &p.primary) >= MIN_CONTRAST, "{color}: {p:?}");
            }
        }
        assert_eq!(Palette::light("#6139f6").link, "#6139f6", "a readable colour is kept");
        assert_eq!(Palette::dark("bad").primary, "#8c61ff");
    }
}
