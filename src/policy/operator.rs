//! Condition operators: the IAM operator names (case-sensitive), split into a base operator, an
//! optional set qualifier (`ForAnyValue:` / `ForAllValues:`) and `IfExists`.

use std::fmt;

/// The value type an operator compares, which decides how its values are read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Family {
    String,
    Numeric,
    Date,
    Bool,
    Binary,
    Ip,
    Arn,
    Null,
}

macro_rules! base_ops {
    ($($v:ident = $name:literal, $fam:ident, $neg:literal;)*) => {
        /// A condition operator without qualifier or `IfExists`.
        #[derive(Clone, Copy, Debug, PartialEq, Eq)]
        pub enum Base { $($v,)* }

        impl Base {
            pub const ALL: &'static [Base] = &[$(Base::$v,)*];

            pub fn name(self) -> &'static str {
                match self { $(Base::$v => $name,)* }
            }

            pub fn family(self) -> Family {
                match self { $(Base::$v => Family::$fam,)* }
            }

            /// A negated operator requires the request value to match none of the values, and is
            /// true when the key is absent (IAM).
            pub fn is_negated(self) -> bool {
                match self { $(Base::$v => $neg,)* }
            }
        }
    };
}

base_ops! {
    StringEquals = "StringEquals", String, false;
    StringNotEquals = "StringNotEquals", String, true;
    StringEqualsIgnoreCase = "StringEqualsIgnoreCase", String, false;
    StringNotEqualsIgnoreCase = "StringNotEqualsIgnoreCase", String, true;
    StringLike = "StringLike", String, false;
    StringNotLike = "StringNotLike", String, true;
    NumericEquals = "NumericEquals", Numeric, false;
    NumericNotEquals = "NumericNotEquals", Numeric, true;
    NumericLessThan = "NumericLessThan", Numeric, false;
    NumericLessThanEquals = "NumericLessThanEquals", Numeric, false;
    NumericGreaterThan = "NumericGreaterThan", Numeric, false;
    NumericGreaterThanEquals = "NumericGreaterThanEquals", Numeric, false;
    DateEquals = "DateEquals", Date, false;
    DateNotEquals = "DateNotEquals", Date, true;
    DateLessThan = "DateLessThan", Date, false;
    DateLessThanEquals = "DateLessThanEquals", Date, false;
    DateGreaterThan = "DateGreaterThan", Date, false;
    DateGreaterThanEquals = "DateGreaterThanEquals", Date, false;
    Bool = "Bool", Bool, false;
    BinaryEquals = "BinaryEquals", Binary, false;
    IpAddress = "IpAddress", Ip, false;
    NotIpAddress = "NotIpAddress", Ip, true;
    ArnEquals = "ArnEquals", Arn, false;
    ArnNotEquals = "ArnNotEquals", Arn, true;
    ArnLike = "ArnLike", Arn, false;
    ArnNotLike = "ArnNotLike", Arn, true;
    Null = "Null", Null, false;
}

/// `ForAnyValue:` / `ForAllValues:`: how a multi-valued request key is compared.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Qualifier {
    ForAnyValue,
    ForAllValues,
}

impl Qualifier {
    fn prefix(self) -> &'static str {
        match self {
            Qualifier::ForAnyValue => "ForAnyValue:",
            Qualifier::ForAllValues => "ForAllValues:",
        }
    }
}

/// A full condition operator, e.g. `ForAnyValue:StringLikeIfExists`.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Operator {
    pub qualifier: Option<Qualifier>,
    pub base: Base,
    pub if_exists: bool,
}

impl Operator {
    /// Reads an operator name; `None` if IAM does not know it (names are case-sensitive, and
    /// `Null` takes no `IfExists`).
    pub fn parse(name: &str) -> Option<Operator> {
        let (qualifier, rest) = if let Some(r) = name.strip_prefix("ForAnyValue:") {
            (Some(Qualifier::ForAnyValue), r)
        } else if let Some(r) = name.strip_prefix("ForAllValues:") {
            (Some(Qualifier::ForAllValues), r)
        } else {
            (None, name)
        };
        let (if_exists, base_name) = match rest.strip_suffix("IfExists") {
            Some(b) => (true, b),
            None => (false, rest),
        };
        let base = Base::ALL.iter().copied().find(|b| b.name() == base_name)?;
        if if_exists && base == Base::Null {
            return None;
        }
        Some(Operator {
            qualifier,
            base,
            if_exists,
        })
    }

    /// The nearest operator name, for a "did you mean" on a misspelt operator.
    pub fn suggest(name: &str) -> Option<&'static str> {
        let lower = name.to_ascii_lowercase();
        let rest = lower
            .strip_prefix("foranyvalue:")
            .or_else(|| lower.strip_prefix("forallvalues:"))
            .unwrap_or(&lower);
        let rest = rest.strip_suffix("ifexists").unwrap_or(rest);
        Base::ALL
            .iter()
            .map(|b| {
                let d = strsim::levenshtein(&b.name().to_ascii_lowercase(), rest);
                (d, b.name())
            })
            .filter(|(d, n)| *d <= 2.max(n.len() / 5))
            .min_by_key(|(d, _)| *d)
            .map(|(_, n)| n)
    }

    /// Whether the operator narrows to requests that carry the key with a matching value: not
    /// negated, not `Null`, and false on an absent key (so neither `IfExists` nor
    /// `ForAllValues:`).
    pub fn is_plain(self) -> bool {
        !self.base.is_negated()
            && self.base != Base::Null
            && !self.if_exists
            && self.qualifier != Some(Qualifier::ForAllValues)
    }
}

impl fmt::Display for Operator {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if let Some(q) = self.qualifier {
            f.write_str(q.prefix())?;
        }
        f.write_str(self.base.name())?;
        if self.if_exists {
            f.write_str("IfExists")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_base_operator_parses_with_its_qualifiers_and_if_exists() {
        for b in Base::ALL {
            for q in ["", "ForAnyValue:", "ForAllValues:"] {
                for ie in ["", "IfExists"] {
                    let name = format!("{q}{}{ie}", b.name());
                    let op = Operator::parse(&name);
                    if *b == Base::Null && !ie.is_empty() {
                        assert_eq!(op, None, "{name}");
                    } else {
                        assert_eq!(op.map(|o| o.to_string()), Some(name.clone()));
                    }
                }
            }
        }
    }

    #[test]
    fn operator_names_are_case_sensitive() {
        assert!(Operator::parse("stringequals").is_none());
        assert!(Operator::parse("StringEquals").is_some());
        assert!(Operator::parse("forAnyValue:StringEquals").is_none());
    }

    #[test]
    fn misspelt_operator_gets_a_suggestion() {
        assert_eq!(Operator::suggest("StringEqual"), Some("StringEquals"));
        assert_eq!(Operator::suggest("stringequals"), Some("StringEquals"));
        assert_eq!(Operator::suggest("Bananas"), None);
    }
}
