// Package sesmailer sends rendered emails through Amazon SES with the v1
// SendEmail API (one recipient, a text and an HTML part, UTF-8).
package sesmailer

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ses"
	"github.com/aws/aws-sdk-go-v2/service/ses/types"

	"github.com/guestaccess/guestaccess/shared/emails"
)

// Mailer sends email from one configured, SES-verified sender address.
type Mailer struct {
	client *ses.Client
	sender string
	// configSet is the SES configuration set every send names ("" for
	// none): it publishes the bounce, complaint and delivery events.
	configSet string
}

// Mailer is an emails.Mailer.
var _ emails.Mailer = (*Mailer)(nil)

// New returns a Mailer that sends through client from sender, which must be
// an identity SES has verified (or SendEmail fails with MessageRejected).
func New(client *ses.Client, sender string) *Mailer {
	return &Mailer{client: client, sender: sender}
}

// WithConfigurationSet returns the Mailer sending with SES configuration set
// name (SES_CONFIGURATION_SET), whose event destination publishes bounces,
// complaints and deliveries; "" sends without one.
func (m *Mailer) WithConfigurationSet(name string) *Mailer {
	c := *m
	c.configSet = name
	return &c
}

// Send sends msg to its single recipient and returns the SES message id.
//
// The recipient is checked again here (bare address, no control characters)
// so that nothing header-breaking reaches SES even if msg was not built by
// emails.RenderInvitation. Errors carry the operation and SES's reason, never
// the subject or the bodies (which hold the secret accept link).
func (m *Mailer) Send(ctx context.Context, msg emails.Message) (string, error) {
	if err := emails.CheckAddress(msg.To); err != nil {
		return "", fmt.Errorf("sesmailer: refusing to send: %w", err)
	}
	if m.sender == "" {
		return "", errors.New("sesmailer: no sender configured")
	}
	if msg.Subject == "" || (msg.Text == "" && msg.HTML == "") {
		return "", errors.New("sesmailer: refusing to send: empty subject or body")
	}
	charset := aws.String("UTF-8")
	body := &types.Body{}
	if msg.Text != "" {
		body.Text = &types.Content{Data: aws.String(msg.Text), Charset: charset}
	}
	if msg.HTML != "" {
		body.Html = &types.Content{Data: aws.String(msg.HTML), Charset: charset}
	}
	tags := make([]types.MessageTag, 0, len(msg.Tags))
	for _, n := range slices.Sorted(maps.Keys(msg.Tags)) {
		if !emails.ValidTag(n) || !emails.ValidTag(msg.Tags[n]) {
			return "", fmt.Errorf("sesmailer: refusing to send: tag %q is not a valid SES tag", n)
		}
		tags = append(tags, types.MessageTag{Name: aws.String(n), Value: aws.String(msg.Tags[n])})
	}
	var configSet *string
	if m.configSet != "" {
		configSet = aws.String(m.configSet)
	}
	out, err := m.client.SendEmail(ctx, &ses.SendEmailInput{
		ConfigurationSetName: configSet,
		Tags:                 tags,
		Source:               aws.String(m.sender),
		Destination:          &types.Destination{ToAddresses: []string{msg.To}},
		Message: &types.Message{
			Subject: &types.Content{Data: aws.String(msg.Subject), Charset: charset},
			Body:    body,
		},
	})
	if err != nil {
		return "", fmt.Errorf("sesmailer: SES SendEmail failed: %w", err)
	}
	return aws.ToString(out.MessageId), nil
}
