//! `Maybe<T>`: an `Option` in the size of `T` itself, for values kept per pod or per queued
//! event (millions of them), where `T` has a value no run reaches to stand for none.

use std::fmt;

/// A type with a value that stands for none in a [`Maybe`] (its largest: no time, duration or
/// id of a run reaches it).
pub trait Niche: Copy + PartialEq {
    /// The value that stands for none; no run reaches it.
    const NONE: Self;
}

/// `Option<T>` in `size_of::<T>()` bytes: `T::NONE` stands for `None`.
#[derive(Clone, Copy, PartialEq, Eq)]
pub struct Maybe<T>(T);

impl<T: Niche> Maybe<T> {
    /// Nothing.
    pub const NONE: Maybe<T> = Maybe(T::NONE);

    /// `value`, which must not be `T::NONE` (checked in debug builds).
    pub fn some(value: T) -> Maybe<T> {
        debug_assert!(value != T::NONE, "the value that stands for none");
        Maybe(value)
    }

    /// As an `Option`.
    pub fn get(self) -> Option<T> {
        (self.0 != T::NONE).then_some(self.0)
    }

    /// Whether it holds a value.
    pub fn is_some(self) -> bool {
        self.0 != T::NONE
    }
}

impl<T: Niche> Default for Maybe<T> {
    fn default() -> Self {
        Maybe::NONE
    }
}

impl<T: Niche> From<Option<T>> for Maybe<T> {
    fn from(value: Option<T>) -> Self {
        value.map_or(Maybe::NONE, Maybe::some)
    }
}

impl<T: Niche + fmt::Debug> fmt::Debug for Maybe<T> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.get().fmt(f)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{NodeId, SimDuration, SimTime};

    #[test]
    fn keeps_an_option_in_its_own_size() {
        assert_eq!(size_of::<Maybe<SimTime>>(), 8);
        assert_eq!(size_of::<Maybe<NodeId>>(), 4);
        assert_eq!(Maybe::<SimDuration>::from(Some(SimDuration(0))).get(), Some(SimDuration(0)));
        assert_eq!(Maybe::<NodeId>::from(None).get(), None);
        assert!(!Maybe::<SimTime>::default().is_some());
        assert_eq!(format!("{:?}", Maybe::some(NodeId(3))), "Some(NodeId(3))");
    }
}
