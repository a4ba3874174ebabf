package domain

import (
	"strconv"
	"strings"
)

// Count says a number with its noun as a person would: Count(1, "paid
// user", "paid users") is "1 paid user", Count(6, …) "6 paid users" (and
// Count(0, …) "0 paid users"). Messages and details use it, never "user(s)".
func Count[N ~int | ~int64](n N, one, many string) string {
	w := many
	if n == 1 || n == -1 {
		w = one
	}
	return strconv.FormatInt(int64(n), 10) + " " + w
}

// Agree picks the verb that agrees with a count: Agree(1, "was", "were")
// is "was", Agree(3, …) "were".
func Agree[N ~int | ~int64](n N, one, many string) string {
	if n == 1 || n == -1 {
		return one
	}
	return many
}

// Named says a noun with the names it stands for: Named("group", "groups",
// ["Partners"]) is "group Partners", with two or more "groups Partners,
// Staff".
func Named(one, many string, names []string) string {
	w := many
	if len(names) == 1 {
		w = one
	}
	return w + " " + strings.Join(names, ", ")
}
