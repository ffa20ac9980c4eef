package exchange

import (
	"errors"
	"testing"

	"github.com/infergate/infergate/internal/openai"
)

func TestReadControl(t *testing.T) {
	get := func(h map[string]string) func(string) string { return func(n string) string { return h[n] } }
	c, err := ReadControl(get(map[string]string{
		HeaderObjectiveLegacy: "old", HeaderObjective: "new",
		HeaderSLOTTFTLegacy: "250", HeaderSLOTPOT: "40",
	}))
	if err != nil {
		t.Fatal(err)
	}
	want := Control{Objective: "new", FairnessID: DefaultFairnessID, SLOTTFTMillis: 250, SLOTPOTMillis: 40}
	if c != want {
		t.Fatalf("got %+v, want %+v", c, want)
	}
	for name, h := range map[string]map[string]string{
		HeaderSLOTTFT:          {HeaderSLOTTFT: "-1"},
		HeaderSLOTPOTLegacy:    {HeaderSLOTPOTLegacy: "12ms"},
		HeaderFairnessIDLegacy: {HeaderFairnessIDLegacy: "a\x00b"},
	} {
		_, err := ReadControl(get(h))
		var oe *openai.Error
		if !errors.As(err, &oe) || oe.Status != 400 || oe.Param != name {
			t.Errorf("%s: got %v, want a 400 naming it", name, err)
		}
	}
}

// FuzzReadControl checks that any header bytes give either safe values or a
// 400 naming the header.
func FuzzReadControl(f *testing.F) {
	f.Add("batch", "tenant", "250", "x")
	f.Fuzz(func(t *testing.T, objective, fairness, ttft, tpot string) {
		h := map[string]string{HeaderObjective: objective, HeaderFairnessIDLegacy: fairness, HeaderSLOTTFT: ttft, HeaderSLOTPOTLegacy: tpot}
		c, err := ReadControl(func(n string) string { return h[n] })
		if err != nil {
			var oe *openai.Error
			if !errors.As(err, &oe) || oe.Status != 400 || oe.Param == "" {
				t.Fatalf("error %v, want a 400 naming the header", err)
			}
			return
		}
		if c.FairnessID == "" || len(c.FairnessID) > MaxControlValueBytes || HasControlChar(c.FairnessID) || c.SLOTTFTMillis < 0 || c.SLOTPOTMillis < 0 {
			t.Fatalf("unsafe values %+v", c)
		}
	})
}
