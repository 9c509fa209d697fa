//! Metrics as data: any `Serialize` summary flattened into `(dotted.name, value)` pairs from its
//! numeric leaves, and their mean with a 95% Student-t confidence interval over seeds. Metrics
//! added to `Summary` later flow into tables, CSV and charts without a change here.

use serde::Serialize;
use serde::ser;

/// Top-level fields that identify a run rather than measure it: they are columns of their own.
const IDENTITY_FIELDS: &[&str] = &["seed"];

/// One measured value of one run.
#[derive(Clone, Debug, PartialEq, Serialize, serde::Deserialize)]
pub struct Metric {
    pub name: String,
    pub value: f64,
}

/// The numeric leaves of `value`, in declaration order, named by their dotted path
/// (`time_to_schedule.p50_ns`). Strings and nulls (`None`) are skipped; booleans count as 0 or
/// 1, so a flag's mean over seeds is the share of runs where it held; sequence items are named
/// by index. Non-finite floats are skipped: they have no place in a CSV or a mean.
pub fn flatten<T: Serialize + ?Sized>(value: &T) -> Vec<Metric> {
    let mut out = Vec::new();
    // Serializing into our own collector cannot fail: every method returns Ok.
    let _ = value.serialize(Flattener { prefix: String::new(), out: &mut out });
    out.retain(|m| !IDENTITY_FIELDS.contains(&m.name.as_str()));
    out
}

/// Mean and 95% confidence interval of one metric over the seeds that produced it.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Estimate {
    pub n: usize,
    pub mean: f64,
    /// Half the width of the 95% interval (Student t, n - 1 degrees of freedom); 0 with one value.
    pub half_width: f64,
}

impl Estimate {
    /// `None` for no values.
    pub fn of(values: &[f64]) -> Option<Estimate> {
        let n = values.len();
        if n == 0 {
            return None;
        }
        let mean = values.iter().sum::<f64>() / n as f64;
        // Identical values have no spread; rounding in the mean must not invent one.
        if n == 1 || values.iter().all(|v| *v == values[0]) {
            return Some(Estimate { n, mean: values[0], half_width: 0.0 });
        }
        let variance = values.iter().map(|v| (v - mean) * (v - mean)).sum::<f64>() / (n - 1) as f64;
        let half_width = t_975(n - 1) * (variance / n as f64).sqrt();
        Some(Estimate { n, mean, half_width })
    }

    pub fn low(&self) -> f64 {
        self.mean - self.half_width
    }

    pub fn high(&self) -> f64 {
        self.mean + self.half_width
    }
}

/// The 0.975 quantile of Student's t distribution with `df` degrees of freedom: tabulated to
/// 30, then the Cornish-Fisher expansion around the normal quantile (error below 1e-4 there).
/// Only `+ * /` and no libm call, so the same on every machine.
pub fn t_975(df: usize) -> f64 {
    const TABLE: [f64; 30] = [
        12.7062, 4.3027, 3.1824, 2.7764, 2.5706, 2.4469, 2.3646, 2.3060, 2.2622, 2.2281, 2.2010, 2.1788, 2.1604,
        2.1448, 2.1314, 2.1199, 2.1098, 2.1009, 2.0930, 2.0860, 2.0796, 2.0739, 2.0687, 2.0639, 2.0595, 2.0555, 2.0518,
        2.0484, 2.0452, 2.0423,
    ];
    match df {
        0 => f64::INFINITY,
        1..=30 => TABLE[df - 1],
        _ => {
            let z: f64 = 1.959_963_984_540_054;
            let v = df as f64;
            let (z3, z5) = (z * z * z, z * z * z * z * z);
            z + (z3 + z) / (4.0 * v) + (5.0 * z5 + 16.0 * z3 + 3.0 * z) / (96.0 * v * v)
        }
    }
}

/// A serializer that records numeric leaves under a dotted path.
struct Flattener<'a> {
    prefix: String,
    out: &'a mut Vec<Metric>,
}

impl Flattener<'_> {
    fn push(self, value: f64) -> Result<(), Never> {
        if value.is_finite() {
            self.out.push(Metric { name: self.prefix, value });
        }
        Ok(())
    }

    fn child(&mut self, key: &str) -> Flattener<'_> {
        let prefix = if self.prefix.is_empty() { key.to_string() } else { format!("{}.{key}", self.prefix) };
        Flattener { prefix, out: self.out }
    }
}

/// The flattener never fails; serde still wants an error type.
#[derive(Debug)]
pub struct Never;

impl std::fmt::Display for Never {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("unreachable")
    }
}

impl std::error::Error for Never {}

impl ser::Error for Never {
    fn custom<T: std::fmt::Display>(_: T) -> Self {
        Never
    }
}

macro_rules! numeric {
    ($($method:ident: $ty:ty),*) => {
        $(fn $method(self, v: $ty) -> Result<(), Never> {
            self.push(v as f64)
        })*
    };
}

impl<'a> ser::Serializer for Flattener<'a> {
    type Ok = ();
    type Error = Never;
    type SerializeSeq = Compound<'a>;
    type SerializeTuple = Compound<'a>;
    type SerializeTupleStruct = Compound<'a>;
    type SerializeTupleVariant = Compound<'a>;
    type SerializeMap = Compound<'a>;
    type SerializeStruct = Compound<'a>;
    type SerializeStructVariant = Compound<'a>;

    numeric!(serialize_i8: i8, serialize_i16: i16, serialize_i32: i32, serialize_i64: i64, serialize_u8: u8,
        serialize_u16: u16, serialize_u32: u32, serialize_u64: u64, serialize_f32: f32, serialize_f64: f64);

    fn serialize_bool(self, v: bool) -> Result<(), Never> {
        self.push(if v { 1.0 } else { 0.0 })
    }
    fn serialize_char(self, _: char) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_str(self, _: &str) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_bytes(self, _: &[u8]) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_none(self) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_some<T: Serialize + ?Sized>(self, value: &T) -> Result<(), Never> {
        value.serialize(self)
    }
    fn serialize_unit(self) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_unit_struct(self, _: &'static str) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_unit_variant(self, _: &'static str, _: u32, _: &'static str) -> Result<(), Never> {
        Ok(())
    }
    fn serialize_newtype_struct<T: Serialize + ?Sized>(self, _: &'static str, value: &T) -> Result<(), Never> {
        value.serialize(self)
    }
    fn serialize_newtype_variant<T: Serialize + ?Sized>(
        mut self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        value: &T,
    ) -> Result<(), Never> {
        let _ = value.serialize(self.child(variant));
        Ok(())
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Compound<'a>, Never> {
        Ok(Compound { parent: self, index: 0, key: None })
    }
    fn serialize_tuple(self, _: usize) -> Result<Compound<'a>, Never> {
        self.serialize_seq(None)
    }
    fn serialize_tuple_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Never> {
        self.serialize_seq(None)
    }
    fn serialize_tuple_variant(
        mut self,
        _: &'static str,
        _: u32,
        variant: &'static str,
        _: usize,
    ) -> Result<Compound<'a>, Never> {
        self.prefix = self.child(variant).prefix;
        self.serialize_seq(None)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Compound<'a>, Never> {
        self.serialize_seq(None)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Compound<'a>, Never> {
        self.serialize_seq(None)
    }
    fn serialize_struct_variant(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        len: usize,
    ) -> Result<Compound<'a>, Never> {
        self.serialize_tuple_variant(name, index, variant, len)
    }
}

/// A struct, map or sequence being flattened: each field, key or index extends the path.
pub struct Compound<'a> {
    parent: Flattener<'a>,
    index: usize,
    /// The key of a map entry whose value comes next.
    key: Option<String>,
}

impl Compound<'_> {
    fn element<T: Serialize + ?Sized>(&mut self, key: &str, value: &T) -> Result<(), Never> {
        value.serialize(self.parent.child(key))
    }

    /// Elements of lists are not metrics (a list of deadlock episodes is a record, not a
    /// quantity to average over seeds): they are skipped.
    fn next_index<T: Serialize + ?Sized>(&mut self, _value: &T) -> Result<(), Never> {
        self.index += 1;
        Ok(())
    }
}

macro_rules! sequence_like {
    ($($trait:ident :: $method:ident),*) => {
        $(impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Never;
            fn $method<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Never> {
                self.next_index(value)
            }
            fn end(self) -> Result<(), Never> {
                Ok(())
            }
        })*
    };
}

sequence_like!(
    SerializeSeq::serialize_element,
    SerializeTuple::serialize_element,
    SerializeTupleStruct::serialize_field,
    SerializeTupleVariant::serialize_field
);

macro_rules! struct_like {
    ($($trait:ident),*) => {
        $(impl ser::$trait for Compound<'_> {
            type Ok = ();
            type Error = Never;
            fn serialize_field<T: Serialize + ?Sized>(&mut self, key: &'static str, value: &T) -> Result<(), Never> {
                self.element(key, value)
            }
            fn end(self) -> Result<(), Never> {
                Ok(())
            }
        })*
    };
}

struct_like!(SerializeStruct, SerializeStructVariant);

impl ser::SerializeMap for Compound<'_> {
    type Ok = ();
    type Error = Never;
    fn serialize_key<T: Serialize + ?Sized>(&mut self, key: &T) -> Result<(), Never> {
        // Map keys become path segments; only string-like and integer keys make sense there.
        self.key = Some(serde_json::to_value(key).ok().map_or_else(String::new, |v| match v {
            serde_json::Value::String(s) => s,
            other => other.to_string(),
        }));
        Ok(())
    }
    fn serialize_value<T: Serialize + ?Sized>(&mut self, value: &T) -> Result<(), Never> {
        let key = self.key.take().unwrap_or_default();
        self.element(&key, value)
    }
    fn end(self) -> Result<(), Never> {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeMap;

    #[derive(Serialize)]
    struct Inner {
        p50_ns: Option<u64>,
        p99_ns: Option<u64>,
        ratio: f64,
    }

    #[derive(Serialize)]
    struct Outer {
        schema: &'static str,
        seed: u64,
        events: u64,
        inner: Inner,
        flag: bool,
        by_node: BTreeMap<String, u32>,
        nan: f64,
    }

    /// Numeric leaves come out in declaration order with dotted names; strings, nulls, the seed
    /// and non-finite values are left out; booleans are 0/1; map keys extend the path.
    #[test]
    fn flattens_numeric_leaves_in_order() {
        let value = Outer {
            schema: "x",
            seed: 7,
            events: 12,
            inner: Inner { p50_ns: Some(5), p99_ns: None, ratio: 0.25 },
            flag: true,
            by_node: [("b".to_string(), 2), ("a".to_string(), 1)].into_iter().collect(),
            nan: f64::NAN,
        };
        let got: Vec<(String, f64)> = flatten(&value).into_iter().map(|m| (m.name, m.value)).collect();
        let want = [("events", 12.0), ("inner.p50_ns", 5.0), ("inner.ratio", 0.25), ("flag", 1.0)];
        let mut want: Vec<(String, f64)> = want.iter().map(|(n, v)| (n.to_string(), *v)).collect();
        want.push(("by_node.a".into(), 1.0));
        want.push(("by_node.b".into(), 2.0));
        assert_eq!(got, want);
    }

    /// The interval is the textbook one: for 1..=5, mean 3, s = 1.5811, t(4) = 2.7764.
    #[test]
    fn confidence_interval_matches_the_textbook() {
        let e = Estimate::of(&[1.0, 2.0, 3.0, 4.0, 5.0]).unwrap();
        assert_eq!((e.n, e.mean), (5, 3.0));
        assert!((e.half_width - 2.7764 * (2.5f64 / 5.0).sqrt()).abs() < 1e-9, "{}", e.half_width);
        let one = Estimate::of(&[4.0]).unwrap();
        assert_eq!((one.mean, one.half_width), (4.0, 0.0));
        assert_eq!(Estimate::of(&[]), None);
        // Past the table, the expansion joins it smoothly and tends to the normal quantile.
        assert!((t_975(31) - 2.0395).abs() < 1e-3, "{}", t_975(31));
        assert!((t_975(1000) - 1.9623).abs() < 1e-3);
    }
}
