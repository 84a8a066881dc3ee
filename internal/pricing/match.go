package pricing

// versionSuffix reports whether s, what follows a listed model id and a
// "-" in a model id, names a dated snapshot or version of that model
// rather than another model: one or more "-"-separated parts, each one of
//
//   - a date: YYYY-MM-DD (three parts), YYYYMMDD, or four digits (MMDD or
//     YYMM, as in "gpt-4-0613" or "mistral-large-2411");
//   - a three-digit revision, as in "gemini-1.5-pro-002";
//   - a version "v" followed by digits, with ":" and digits after, as in
//     Bedrock's "-v1:0";
//   - "latest".
//
// So "gpt-4o-2024-08-06" is a snapshot of "gpt-4o", while "gpt-4o-mini" is
// not, and neither is "claude-opus-4-5" of "claude-opus-4": a part of one
// or two digits is a model's version number, never a date.
func versionSuffix(s string) bool {
	if s == "" {
		return false
	}
	for s != "" {
		n := versionPart(s)
		if n == 0 {
			return false
		}
		s = s[n:]
		if s == "" {
			return true
		}
		if s[0] != '-' {
			return false
		}
		s = s[1:]
		if s == "" {
			return false
		}
	}
	return true
}

// versionPart returns the length of the version part at the start of s,
// which must end there or be followed by "-", or 0 if there is none.
func versionPart(s string) int {
	// YYYY-MM-DD first: its first part alone would also read as four digits.
	if len(s) >= 10 && runOfDigits(s) == 4 && s[4] == '-' && runOfDigits(s[5:]) == 2 && s[7] == '-' &&
		runOfDigits(s[8:]) == 2 && ends(s, 10) {
		return 10
	}
	switch n := runOfDigits(s); {
	case n == 3 || n == 4 || n == 8:
		if ends(s, n) {
			return n
		}
		return 0
	case n > 0:
		return 0
	}
	if len(s) >= 6 && s[:6] == "latest" && ends(s, 6) {
		return 6
	}
	if s[0] == 'v' {
		n := runOfDigits(s[1:])
		if n == 0 {
			return 0
		}
		i := 1 + n
		if i < len(s) && s[i] == ':' {
			m := runOfDigits(s[i+1:])
			if m == 0 {
				return 0
			}
			i += 1 + m
		}
		if ends(s, i) {
			return i
		}
	}
	return 0
}

// runOfDigits returns the number of ASCII digits at the start of s.
func runOfDigits(s string) int {
	i := 0
	for i < len(s) && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return i
}

// ends reports whether a part of length n at the start of s ends the id or
// is followed by "-".
func ends(s string, n int) bool {
	return n == len(s) || s[n] == '-'
}
