//! A failed form step as the page shows it: the message stands under the field it is about
//! (`aria-describedby` ties them, `aria-invalid` marks the field, `autofocus` moves focus
//! there when the page loads — no script needed), or above the form when it is about the
//! whole form or the page has no such field.

use askama::Template;

use super::view::Terms;

/// The hosted forms' fields a message can be about (their `name` and `id`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Field {
    Identifier,
    Username,
    Password,
    ConfirmPassword,
    Code,
    Agree,
}

impl Field {
    pub fn name(self) -> &'static str {
        match self {
            Self::Identifier => "identifier",
            Self::Username => "username",
            Self::Password => "password",
            Self::ConfirmPassword => "confirm_password",
            Self::Code => "code",
            Self::Agree => "agree",
        }
    }
}

/// What a failed step says, and the field it is about.
#[derive(Debug, Clone, Copy)]
pub struct Failure {
    pub text: &'static str,
    pub field: Option<Field>,
}

impl Failure {
    pub fn about(field: Field, text: &'static str) -> Self {
        Self { text, field: Some(field) }
    }
}

/// The failure a page shows (if any), its field kept only when the page has that field.
#[derive(Debug, Clone, Copy, Default)]
pub struct FormError {
    failure: Option<Failure>,
}

impl FormError {
    pub fn on_page(failure: Option<Failure>, fields: &[Field]) -> Self {
        let failure = failure.map(|f| Failure { field: f.field.filter(|x| fields.contains(x)), ..f });
        Self { failure }
    }

    /// The message when it is about the whole form.
    pub fn general(&self) -> Option<&'static str> {
        self.failure.filter(|f| f.field.is_none()).map(|f| f.text)
    }

    fn about(&self, field: &str) -> Option<&'static str> {
        self.failure.filter(|f| f.field.is_some_and(|x| x.name() == field)).map(|f| f.text)
    }

    /// The input's ARIA attributes (and `autofocus` on the field in error); `described_by`
    /// names a hint the field is always read with ("" for none). Static text only.
    pub fn attributes(&self, field: &str, described_by: &str) -> String {
        let hint = |ids: String| if ids.is_empty() { String::new() } else { format!(" aria-describedby=\"{ids}\"") };
        match self.about(field) {
            Some(_) => {
                let ids = format!("{field}-error {described_by}");
                format!(" aria-invalid=\"true\"{} autofocus", hint(ids.trim().to_owned()))
            }
            None => hint(described_by.to_owned()),
        }
    }

    /// The message under `field` (HTML, escaped), or nothing.
    pub fn below(&self, field: &str) -> String {
        self.about(field).and_then(|text| FieldErrorLine { field, text }.render().ok()).unwrap_or_default()
    }
}

/// A form's fields: `inputs`, and the terms checkbox when the form asks for agreement.
pub fn fields(inputs: &[Field], terms: &Option<Terms>) -> Vec<Field> {
    let mut fields = inputs.to_vec();
    if terms.as_ref().is_some_and(|t| t.required) {
        fields.push(Field::Agree);
    }
    fields
}

#[derive(Template)]
#[template(path = "_field_error.html")]
struct FieldErrorLine<'a> {
    field: &'a str,
    text: &'a str,
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_message_goes_to_its_field_when_the_page_has_it() {
        let failure = Some(Failure::about(Field::Agree, "Agree <first>"));
        let shown = FormError::on_page(failure, &[Field::Username, Field::Agree]);
        assert_eq!(shown.general(), None);
        assert_eq!(shown.attributes("agree", ""), " aria-invalid=\"true\" aria-describedby=\"agree-error\" autofocus");
        assert_eq!(shown.attributes("username", ""), "");
        assert_eq!(shown.attributes("password", "password-rules"), " aria-describedby=\"password-rules\"");
        assert!(shown.below("agree").contains("id=\"agree-error\""));
        assert!(
            shown.below("agree").contains("Agree &#60;first&#62;") || shown.below("agree").contains("&lt;first&gt;")
        );
        assert_eq!(shown.below("username"), "");

        let elsewhere = FormError::on_page(failure, &[Field::Username]);
        assert_eq!(elsewhere.general(), Some("Agree <first>"));
        assert_eq!(elsewhere.below("agree"), "");
        let password = FormError::on_page(Some(Failure::about(Field::Password, "x")), &[Field::Password]);
        assert_eq!(
            password.attributes("password", "password-rules"),
            " aria-invalid=\"true\" aria-describedby=\"password-error password-rules\" autofocus"
        );
    }
}
