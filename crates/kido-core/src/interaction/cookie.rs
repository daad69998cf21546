//! The browser's `_interaction` cookie as one request sees it. A request that may change
//! the sign-in carries a fresh value too: its first save moves the interaction to it in the
//! same statement that writes the state, and a request that saves nothing moves it at the
//! end (`store::settle`). Either way every such request rotates the cookie, and of two
//! holders of the old value exactly one moves on.

use std::sync::Mutex;

#[derive(Debug, Default)]
pub struct InteractionCookie {
    inner: Mutex<Values>,
}

#[derive(Debug, Default, Clone)]
struct Values {
    current: Option<String>,
    /// The value the interaction moves to, until it moved.
    next: Option<String>,
    moved: bool,
}

impl InteractionCookie {
    /// A request that only reads the sign-in (or carries no usable cookie).
    pub fn read_only(current: Option<&str>) -> Self {
        Self::with(Values { current: current.map(str::to_owned), next: None, moved: false })
    }

    /// A request that may change the sign-in: `next` is the cookie it moves to.
    pub fn rotating(current: &str, next: String) -> Self {
        Self::with(Values { current: Some(current.to_owned()), next: Some(next), moved: false })
    }

    fn with(values: Values) -> Self {
        Self { inner: Mutex::new(values) }
    }

    fn values(&self) -> Values {
        self.inner.lock().unwrap_or_else(|e| e.into_inner()).clone()
    }

    /// The value that finds the interaction now.
    pub fn current(&self) -> Option<String> {
        self.values().current
    }

    /// The fresh value, once the interaction moved to it.
    pub fn moved_to(&self) -> Option<String> {
        let v = self.values();
        v.moved.then_some(v.current).flatten()
    }

    /// `(old, fresh)` while a move is still due.
    pub(crate) fn pending_move(&self) -> Option<(String, String)> {
        let v = self.values();
        v.current.zip(v.next)
    }

    /// The interaction now answers to the fresh value only.
    pub(crate) fn mark_moved(&self) {
        let mut v = self.inner.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(next) = v.next.take() {
            v.current = Some(next);
            v.moved = true;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_move_happens_once() {
        let c = InteractionCookie::rotating("old", "new".into());
        assert_eq!(c.pending_move(), Some(("old".into(), "new".into())));
        assert_eq!(c.moved_to(), None);
        c.mark_moved();
        assert_eq!(c.current().as_deref(), Some("new"));
        assert_eq!(c.moved_to().as_deref(), Some("new"));
        assert_eq!(c.pending_move(), None);
        let r = InteractionCookie::read_only(Some("x"));
        assert_eq!(r.pending_move(), None);
        r.mark_moved();
        assert_eq!((r.current().as_deref(), r.moved_to()), (Some("x"), None));
    }
}
