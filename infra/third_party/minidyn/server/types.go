package server

import "encoding/json"

// AttributeValue is a concrete representation of DynamoDB's AttributeValue
// that works with standard json encoding/decoding.
type AttributeValue struct {
	B    []byte                     `json:"B,omitempty"`
	BOOL *bool                      `json:"BOOL,omitempty"`
	BS   [][]byte                   `json:"BS,omitempty"`
	L    []*AttributeValue          `json:"L,omitempty"`
	M    map[string]*AttributeValue `json:"M,omitempty"`
	N    *string                    `json:"N,omitempty"`
	NS   []*string                  `json:"NS,omitempty"`
	NULL *bool                      `json:"NULL,omitempty"`
	S    *string                    `json:"S,omitempty"`
	SS   []*string                  `json:"SS,omitempty"`
}

// MarshalJSON writes the value as DynamoDB JSON.
// PATCHED (PATCHES.md, 4): an empty map or list keeps its type ({"M":{}},
// {"L":[]}); v0.8.2 wrote {} (every member omitted as empty), which the SDK
// reads as no value of any known type.
func (av AttributeValue) MarshalJSON() ([]byte, error) {
	type plain AttributeValue

	switch {
	case av.M != nil && len(av.M) == 0:
		return []byte(`{"M":{}}`), nil
	case av.L != nil && len(av.L) == 0:
		return []byte(`{"L":[]}`), nil
	}

	return json.Marshal(plain(av))
}
