-- =============================================================================
-- A contact changed number (issue 13): WhatsApp's `system` message of type
-- `user_changed_number` names the contact's new WhatsApp id. The platform
-- moves the contact's identity to it and sends nothing more to the old
-- number, which may now belong to someone else.
--
-- `private.apply_contact_number_change` (called by route-message, in the
-- transaction that routes the notice):
-- - the contact (`contacts.wa_id`, `phone_number`) takes the new id, unless
--   another contact already has it;
-- - the number's conversation with the old id moves to the new id, unless
--   the new id already has a conversation on that number (then both stay,
--   and the old one is closed);
-- - outbound messages still queued for the old id follow the conversation
--   to the new id, or, when it could not move, fail with a reason saying
--   so: nothing is sent to the old number either way;
-- - an audit entry records what happened.
-- =============================================================================

create function private.apply_contact_number_change(
    change_number_id uuid, old_wa_id text, new_wa_id text
) returns jsonb
    language plpgsql set search_path = '' as $$
declare
    moved_contact boolean := false;
    moved_conversation boolean := false;
    n_retargeted integer := 0;
    n_failed integer := 0;
begin
    if new_wa_id is null or new_wa_id !~ '^[0-9]{5,20}$' then
        raise exception 'new_wa_id must be 5 to 20 digits, got %', coalesce(new_wa_id, 'null')
            using errcode = '22023';
    end if;
    if old_wa_id = new_wa_id then
        return jsonb_build_object('moved_contact', false, 'moved_conversation', false,
                                  'retargeted', 0, 'failed', 0);
    end if;

    update public.contacts
    set wa_id = new_wa_id,
        phone_number = '+' || new_wa_id
    where wa_id = old_wa_id
      and not exists (select 1 from public.contacts as c
                      where c.wa_id = new_wa_id or c.phone_number = '+' || new_wa_id);
    moved_contact := found;

    update public.conversations
    set contact_wa_id = new_wa_id
    where number_id = change_number_id and contact_wa_id = old_wa_id
      and not exists (select 1 from public.conversations as c
                      where c.number_id = change_number_id and c.contact_wa_id = new_wa_id);
    moved_conversation := found;

    if moved_conversation then
        update public.messages
        set contact_wa_id = new_wa_id
        where number_id = change_number_id and contact_wa_id = old_wa_id
          and direction = 'outbound' and status = 'queued';
        get diagnostics n_retargeted = row_count;
    else
        update public.conversations set mode = 'closed'
        where number_id = change_number_id and contact_wa_id = old_wa_id and mode <> 'closed';
        update public.messages
        set status = 'failed',
            error = format('not sent: the contact changed number to +%s', new_wa_id)
        where number_id = change_number_id and contact_wa_id = old_wa_id
          and direction = 'outbound' and status = 'queued';
        get diagnostics n_failed = row_count;
    end if;

    perform private.write_audit(
        'contacts.number_changed', 'contacts', old_wa_id,
        jsonb_build_object('number_id', change_number_id, 'old_wa_id', old_wa_id,
                           'new_wa_id', new_wa_id, 'moved_contact', moved_contact,
                           'moved_conversation', moved_conversation,
                           'retargeted', n_retargeted, 'failed', n_failed));
    return jsonb_build_object('moved_contact', moved_contact,
                              'moved_conversation', moved_conversation,
                              'retargeted', n_retargeted, 'failed', n_failed);
end;
$$;

revoke all on function private.apply_contact_number_change(uuid, text, text) from public;
grant execute on function private.apply_contact_number_change(uuid, text, text) to service_role;
