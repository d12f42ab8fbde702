//! (syntax helper fills this in)
