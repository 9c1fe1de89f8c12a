//! A seeded xorshift64* generator: ids, IP allocation order and `flaky:<p>` draws are
//! reproducible for a given seed.

/// Deterministic pseudo-random numbers (not for cryptography).
#[derive(Debug, Clone)]
pub struct Rng(u64);

impl Rng {
    pub fn new(seed: u64) -> Self {
        // Spread small seeds and never hold the all-zero state, which xorshift cannot leave.
        let mut s = seed ^ 0x9E37_79B9_7F4A_7C15;
        if s == 0 {
            s = 0x2545_F491_4F6C_DD1D;
        }
        Self(s)
    }

    pub fn next_u64(&mut self) -> u64 {
        let mut x = self.0;
        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        self.0 = x;
        x.wrapping_mul(0x2545_F491_4F6C_DD1D)
    }

    /// Uniform in [0, 1).
    pub fn unit(&mut self) -> f64 {
        (self.next_u64() >> 11) as f64 / (1u64 << 53) as f64
    }

    /// `n` lowercase hex digits.
    pub fn hex(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        while s.len() < n {
            s.push_str(&format!("{:016x}", self.next_u64()));
        }
        s.truncate(n);
        s
    }

    /// `n` decimal digits, the first one non-zero.
    pub fn digits(&mut self, n: usize) -> String {
        let mut s = String::with_capacity(n);
        s.push(char::from(b'1' + (self.next_u64() % 9) as u8));
        while s.len() < n {
            s.push(char::from(b'0' + (self.next_u64() % 10) as u8));
        }
        s
    }

    /// A version-4-shaped UUID string.
    pub fn uuid(&mut self) -> String {
        let h = self.hex(32);
        format!("{}-{}-4{}-a{}-{}", &h[0..8], &h[8..12], &h[13..16], &h[17..20], &h[20..32])
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn same_seed_same_sequence_and_shapes() {
        let (mut a, mut b) = (Rng::new(7), Rng::new(7));
        assert_eq!(a.next_u64(), b.next_u64());
        let d = a.digits(19);
        assert_eq!(d.len(), 19);
        assert!(!d.starts_with('0'));
        assert_eq!(a.uuid().len(), 36);
        assert!((0.0..1.0).contains(&a.unit()));
        assert_eq!(a.hex(40).len(), 40);
    }
}
