-- Every change of conversations.opted_out is audited (issue 12, item 7):
-- whether a contact may be messaged is a legal matter, so who changed it and
-- when must be on record, whichever path changed it (the admin API as a
-- member, the functions or the daemon as the service role, or SQL as
-- postgres). The row names the actor (auth.uid() and the role, stamped by
-- audit_log_entries' own trigger) and the old and new values.

create function private.audit_conversation_opt_out() returns trigger
    language plpgsql security definer set search_path = '' as $$
begin
    perform private.write_audit(
        'conversations.opted_out_changed', 'conversations', new.id::text,
        jsonb_build_object(
            'from', case when tg_op = 'INSERT' then null else old.opted_out end,
            'to', new.opted_out,
            'number_id', new.number_id
        )
    );
    return null;
end;
$$;

comment on function private.audit_conversation_opt_out() is
    'AFTER INSERT OR UPDATE OF opted_out on conversations: writes conversations.opted_out_changed to the audit log.';

revoke all on function private.audit_conversation_opt_out() from public;

create trigger conversations_audit_opt_out_update
    after update of opted_out on public.conversations
    for each row when (old.opted_out is distinct from new.opted_out)
    execute function private.audit_conversation_opt_out();

-- A conversation created already opted out is a change from nothing.
create trigger conversations_audit_opt_out_insert
    after insert on public.conversations
    for each row when (new.opted_out)
    execute function private.audit_conversation_opt_out();
