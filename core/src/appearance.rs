//! A merchant's look beyond its brand colour: the corners, the font and light or dark, chosen
//! from short lists so that every choice is a tested one (no CSS from a merchant reaches a
//! client's page, and no font is downloaded from elsewhere).
//!
//! The widget shows each choice as a `data-corners`, `data-font` or `data-scheme` attribute
//! on its frame; `www/slotpay.css` turns them into its custom properties (which a page's own
//! `--slotpay-*` properties still win over), and from those the widget themes Stripe's fields
//! through the Appearance API. The payment-link page carries the same attributes.

use serde::{Deserialize, Serialize};

/// Declares a closed list of choices with their wire strings: `as_str`, `parse` and `ALL`.
macro_rules! choices {
    ($(#[doc = $doc:literal])* $name:ident { $($(#[doc = $vdoc:literal])* $variant:ident => $s:literal,)* }) => {
        $(#[doc = $doc])*
        #[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
        #[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Serialize, Deserialize)]
        #[serde(rename_all = "lowercase")]
        pub enum $name {
            $($(#[doc = $vdoc])* $variant,)*
        }

        impl $name {
            /// Every choice, in the order a form lists them.
            pub const ALL: &'static [$name] = &[$($name::$variant,)*];

            /// Their wire strings, in the same order.
            pub const NAMES: &'static [&'static str] = &[$($s,)*];

            /// The wire string, e.g. `"serif"`.
            pub const fn as_str(self) -> &'static str {
                $name::NAMES[self as usize]
            }

            /// The choice of a wire string; `None` for anything else.
            pub fn parse(s: &str) -> Option<$name> {
                let i = $name::NAMES.iter().position(|n| *n == s)?;
                Some($name::ALL[i])
            }
        }
    };
}

choices! {
    /// How round the checkout's corners are (its box, fields and buttons).
    Corners {
        /// No rounding (0 px).
        Square => "square",
        /// Slightly rounded (4 px).
        Small => "small",
        /// Rounded (8 px), the checkout's default.
        Medium => "medium",
        /// Very rounded (16 px).
        Large => "large",
    }
}

choices! {
    /// The checkout's typeface: a stack of fonts the client's device already has.
    Font {
        /// The device's interface font (the checkout's default).
        System => "system",
        /// A book serif (Georgia and its kin).
        Serif => "serif",
        /// A humanist sans-serif (Optima, Candara, Segoe).
        Humanist => "humanist",
        /// A geometric sans-serif (Avenir, Century Gothic).
        Geometric => "geometric",
    }
}

choices! {
    /// Light or dark.
    Scheme {
        /// Dark text on a light background (the default).
        Light => "light",
        /// Light text on a dark background, for a salon site that is dark.
        Dark => "dark",
    }
}

impl Corners {
    /// The radius in CSS pixels.
    pub const fn px(self) -> u8 {
        match self {
            Corners::Square => 0,
            Corners::Small => 4,
            Corners::Medium => 8,
            Corners::Large => 16,
        }
    }
}

impl Font {
    /// The CSS `font-family` stack (for the server's own pages; the widget's is in
    /// `www/slotpay.css`, kept equal by a test there).
    pub const fn stack(self) -> &'static str {
        match self {
            Font::System => {
                r#"system-ui, -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif"#
            }
            Font::Serif => r#"Georgia, Cambria, "Times New Roman", Times, serif"#,
            Font::Humanist => {
                r#"Optima, Candara, "Segoe UI", "Noto Sans", "DejaVu Sans", sans-serif"#
            }
            Font::Geometric => {
                r#"Avenir, "Avenir Next", Montserrat, "Century Gothic", "URW Gothic", sans-serif"#
            }
        }
    }
}

/// The three choices together, each `None` where the merchant kept the checkout's default.
#[cfg_attr(feature = "openapi", derive(utoipa::ToSchema))]
#[derive(Clone, Copy, PartialEq, Eq, Hash, Debug, Default, Serialize, Deserialize)]
pub struct Appearance {
    /// How round the corners are.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corners: Option<Corners>,
    /// The typeface.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub font: Option<Font>,
    /// Light or dark.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub scheme: Option<Scheme>,
}

impl Appearance {
    /// True when nothing was chosen.
    pub fn is_default(&self) -> bool {
        *self == Appearance::default()
    }

    /// The choices as the `data-*` attributes the widget's stylesheet and the payment-link
    /// page's read, `None` where the default stands. (Inlined: called out of line, it made
    /// the widget 80 B of gzip larger.)
    #[inline]
    pub fn attributes(&self) -> [(&'static str, Option<&'static str>); 3] {
        [
            ("data-corners", self.corners.map(Corners::as_str)),
            ("data-font", self.font.map(Font::as_str)),
            ("data-scheme", self.scheme.map(Scheme::as_str)),
        ]
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_choice_reads_back_from_its_wire_string_and_nothing_else_parses() {
        for (i, &c) in Corners::ALL.iter().enumerate() {
            assert_eq!(c as usize, i, "declared in the order of ALL");
            assert_eq!(Corners::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        for (i, &f) in Font::ALL.iter().enumerate() {
            assert_eq!(f as usize, i, "declared in the order of ALL");
            assert_eq!(Font::parse(f.as_str()), Some(f));
            assert_eq!(serde_json::to_value(f).unwrap(), f.as_str());
            assert!(!f.stack().contains([';', '{', '}', '<']), "{f:?}");
        }
        for (i, &s) in Scheme::ALL.iter().enumerate() {
            assert_eq!(s as usize, i, "declared in the order of ALL");
            assert_eq!(Scheme::parse(s.as_str()), Some(s));
        }
        for bad in ["", "Serif", "round", "8px", "comic-sans", "dark;"] {
            assert_eq!(Font::parse(bad), None);
            assert_eq!(Corners::parse(bad), None);
            assert_eq!(Scheme::parse(bad), None);
        }
        assert_eq!(Corners::Large.px(), 16);
    }

    /// The widget's stylesheet turns each choice into the same values as this module.
    #[test]
    fn the_widget_stylesheet_has_every_choice_with_these_values() {
        let css = include_str!("../../www/slotpay.css");
        for &f in Font::ALL {
            let rule = format!(
                ".sp[data-font=\"{}\"] {{ --sp-m-font: {}; }}",
                f.as_str(),
                f.stack()
            );
            assert!(css.contains(&rule), "{rule}");
        }
        for &c in Corners::ALL {
            let rule = format!(
                ".sp[data-corners=\"{}\"] {{ --sp-m-radius: {}px; }}",
                c.as_str(),
                c.px()
            );
            assert!(css.contains(&rule), "{rule}");
        }
        assert!(css.contains(".sp[data-scheme=\"dark\"] {"));
    }

    #[test]
    fn an_appearance_sends_only_what_was_chosen() {
        let chosen = Appearance {
            corners: Some(Corners::Large),
            font: None,
            scheme: Some(Scheme::Dark),
        };
        let json = serde_json::to_value(chosen).unwrap();
        assert_eq!(
            json,
            serde_json::json!({"corners": "large", "scheme": "dark"})
        );
        assert_eq!(serde_json::from_value::<Appearance>(json).unwrap(), chosen);
        assert!(Appearance::default().is_default());
        assert!(serde_json::from_str::<Appearance>(r#"{"font": "papyrus"}"#).is_err());
    }
}
