//! `Few<T>`: a list that is nearly always of one item (a pod's parts), kept inline until it
//! grows, so a million of them allocate nothing.

/// None, one item inline, or a boxed vector; read as a slice. The box (one word, where a
/// vector takes three and a boxed slice two) lets a small item (the backend's 12-byte part
/// book) keep the list at 16 bytes, and an item of three words with a niche of its own (a
/// report's part run) at its own size; lists of more than one are rare.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub enum Few<T> {
    /// No item.
    #[default]
    None,
    /// One item, inline.
    One(T),
    /// Two or more.
    Many(Box<Vec<T>>),
}

impl<T> Few<T> {
    /// Appends `item`, boxing the list when it grows past one.
    pub fn push(&mut self, item: T) {
        *self = match std::mem::take(self) {
            Few::None => Few::One(item),
            Few::One(first) => Few::Many(Box::new(vec![first, item])),
            Few::Many(mut items) => {
                items.push(item);
                Few::Many(items)
            }
        };
    }
}

impl<T> std::ops::Deref for Few<T> {
    type Target = [T];
    fn deref(&self) -> &[T] {
        match self {
            Few::None => &[],
            Few::One(item) => std::slice::from_ref(item),
            Few::Many(v) => v,
        }
    }
}

impl<T> std::ops::DerefMut for Few<T> {
    fn deref_mut(&mut self) -> &mut [T] {
        match self {
            Few::None => &mut [],
            Few::One(item) => std::slice::from_mut(item),
            Few::Many(v) => v,
        }
    }
}

impl<'a, T> IntoIterator for &'a Few<T> {
    type Item = &'a T;
    type IntoIter = std::slice::Iter<'a, T>;
    fn into_iter(self) -> Self::IntoIter {
        self.iter()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn grows_from_none_to_one_to_many_in_order() {
        let mut few = Few::default();
        assert!(few.is_empty());
        few.push(1);
        assert!(matches!(few, Few::One(1)));
        few.push(2);
        few.push(3);
        few[0] = 7;
        assert_eq!(&*few, [7, 2, 3]);
    }
}
