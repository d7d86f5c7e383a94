//! Records to rows.
